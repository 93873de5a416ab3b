package spool

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Envelope {
	return &Envelope{
		Received: time.Date(2026, 12, 7, 15, 25, 36, 123456789, time.UTC),
		Listener: "127.0.0.1:10024",
		Protocol: "ESMTP",
		Client:   "127.0.0.1:41234",
		Helo:     "mx.example.org",
		Sender:   "alice@example.org",
		Return:   "HDRS",
		EnvID:    "QQ314159 with space+plus=eq",
		Size:     1234,
		Body:     "8BITMIME",
		SMTPUTF8: true,
		XForward: XForward{Name: "client.example.com", Addr: "IPv6:2001:db8::1", Port: "4711", Proto: "ESMTP",
			Helo: "client.example.com", Ident: "4Xb1Lm2Cqz", Source: "REMOTE", Login: "[UNAVAILABLE]"},
		Recipients: []Recipient{
			{Addr: "bob@example.net", Notify: []string{"SUCCESS", "FAILURE"}, ORcptType: "RFC822", ORcpt: "bob+tag@example.net"},
			{Addr: "josé@exämple.net", Notify: []string{"NEVER"}, ORcptType: "UTF-8", ORcpt: "josé@exämple.net"},
			{Addr: "carol@example.net"},
		},
	}
}

const sampleText = `qscan-spool 1
received 2026-12-07T15:25:36.123456789Z
protocol ESMTP
listener 127.0.0.1:10024
client 127.0.0.1:41234
helo mx.example.org
sender alice@example.org
ret HDRS
envid QQ314159+20with+20space+2Bplus+3Deq
size 1234
body 8BITMIME
smtputf8
xforward NAME=client.example.com
xforward ADDR=IPv6:2001:db8::1
xforward PORT=4711
xforward PROTO=ESMTP
xforward HELO=client.example.com
xforward IDENT=4Xb1Lm2Cqz
xforward SOURCE=REMOTE
xforward LOGIN=[UNAVAILABLE]
rcpt bob@example.net notify=SUCCESS,FAILURE orcpt=RFC822;bob+2Btag@example.net
rcpt jos+C3+A9@ex+C3+A4mple.net notify=NEVER orcpt=UTF-8;jos+C3+A9@ex+C3+A4mple.net
rcpt carol@example.net
end
`

func TestEnvelopeBytes(t *testing.T) {
	got, err := sample().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != sampleText {
		t.Errorf("Bytes() =\n%s\nwant\n%s", got, sampleText)
	}
}

func TestParseEnvelopeRoundTrip(t *testing.T) {
	e, err := ParseEnvelope(strings.NewReader(sampleText), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := sample(); !reflect.DeepEqual(e, want) {
		t.Errorf("ParseEnvelope =\n%+v\nwant\n%+v", e, want)
	}
}

func TestParseEnvelopeNullSender(t *testing.T) {
	e := &Envelope{Received: time.Unix(1, 0).UTC(), Protocol: "LMTP", Recipients: []Recipient{{Addr: "postmaster"}}}
	b, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\nsender\n")) {
		t.Errorf("null sender written as %q", b)
	}
	got, err := ParseEnvelope(bytes.NewReader(b), Limits{})
	if err != nil || got.Sender != "" || got.Protocol != "LMTP" {
		t.Errorf("ParseEnvelope(%q) = %+v, %v", b, got, err)
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	good := sampleText
	rep := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"no magic", strings.TrimPrefix(good, Magic+"\n")},
		{"other version", rep(Magic, "qscan-spool 2")},
		{"truncated", strings.TrimSuffix(good, "end\n")},
		{"no final newline", strings.TrimSuffix(good, "\n")},
		{"after end", good + "rcpt x@y\n"},
		{"unknown key", rep("body 8BITMIME\n", "body 8BITMIME\nfoo bar\n")},
		{"duplicate sender", rep("sender alice@example.org\n", "sender alice@example.org\nsender eve@example.org\n")},
		{"duplicate xforward", rep("xforward PORT=4711\n", "xforward PORT=4711\nxforward PORT=1\n")},
		{"unknown xforward", rep("xforward PORT=4711\n", "xforward COLOR=red\n")},
		{"bad protocol", rep("protocol ESMTP", "protocol UUCP")},
		{"bad ret", rep("ret HDRS", "ret ALL")},
		{"bad body", rep("body 8BITMIME", "body 9BIT")},
		{"bad size", rep("size 1234", "size -1")},
		{"size leading zero", rep("size 1234", "size 01234")},
		{"bad time", rep("2026-12-07T15:25:36.123456789Z", "yesterday")},
		{"non-UTC time", rep("2026-12-07T15:25:36.123456789Z", "2026-12-07T16:25:36.123456789+01:00")},
		{"out of order", rep("protocol ESMTP\nlistener 127.0.0.1:10024\n", "listener 127.0.0.1:10024\nprotocol ESMTP\n")},
		{"raw space in value", rep("helo mx.example.org", "helo mx example")},
		{"trailing space", rep("helo mx.example.org", "helo mx.example.org ")},
		{"bad xtext", rep("helo mx.example.org", "helo mx+ZZ")},
		{"lower-case xtext", rep("+C3+A9@ex", "+c3+a9@ex")},
		{"needless xtext", rep("helo mx.example.org", "helo mx+2Eexample.org")},
		{"control char", rep("helo mx.example.org", "helo mx+0Aexample.org")},
		{"NUL", rep("helo mx.example.org", "helo mx+00")},
		{"bad notify", rep("notify=SUCCESS,FAILURE", "notify=SOMETIMES")},
		{"never and more", rep("notify=SUCCESS,FAILURE", "notify=NEVER,FAILURE")},
		{"notify twice", rep("notify=SUCCESS,FAILURE", "notify=SUCCESS,SUCCESS")},
		{"bad orcpt type", rep("orcpt=RFC822;", "orcpt=X400;")},
		{"empty orcpt", rep("orcpt=RFC822;bob+2Btag@example.net", "orcpt=RFC822;")},
		{"no recipient", strings.Join(strings.Split(good, "rcpt ")[0:1], "") + "end\n"},
		{"empty recipient", rep("rcpt carol@example.net", "rcpt")},
		{"carriage return", rep("helo mx.example.org\n", "helo mx.example.org\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEnvelope(strings.NewReader(tt.in), Limits{})
			if err == nil {
				t.Fatalf("ParseEnvelope(%q) = %+v, want an error", tt.in, e)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLimit) {
				t.Errorf("ParseEnvelope error %v is neither ErrSyntax nor ErrLimit", err)
			}
		})
	}
}

func envWithRcpts(n int) []byte {
	e := sample()
	e.Recipients = nil
	for i := range n {
		e.Recipients = append(e.Recipients, Recipient{Addr: fmt.Sprintf("r%d@example.net", i)})
	}
	b, _ := e.Bytes()
	return b
}

func TestParseEnvelopeLimits(t *testing.T) {
	b := envWithRcpts(5)
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxRecipients: 5}); err != nil {
		t.Errorf("5 recipients with MaxRecipients 5: %v", err)
	}
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxRecipients: 4}); !errors.Is(err, ErrLimit) {
		t.Errorf("5 recipients with MaxRecipients 4: %v, want ErrLimit", err)
	}
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxBytes: int64(len(b))}); err != nil {
		t.Errorf("MaxBytes = size: %v", err)
	}
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxBytes: int64(len(b) - 1)}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxBytes = size-1: %v, want ErrLimit", err)
	}
	longest := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		longest = max(longest, len(l))
	}
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxLine: longest}); err != nil {
		t.Errorf("MaxLine = longest line: %v", err)
	}
	if _, err := ParseEnvelope(bytes.NewReader(b), Limits{MaxLine: longest - 1}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxLine = longest-1: %v, want ErrLimit", err)
	}
}

func TestEnvelopeBytesRefuses(t *testing.T) {
	for name, mod := range map[string]func(*Envelope){
		"no recipient":   func(e *Envelope) { e.Recipients = nil },
		"newline":        func(e *Envelope) { e.Sender = "a@b\nrcpt evil@x" },
		"long value":     func(e *Envelope) { e.Helo = strings.Repeat("h", MaxValue+1) },
		"bad protocol":   func(e *Envelope) { e.Protocol = "" },
		"no time":        func(e *Envelope) { e.Received = time.Time{} },
		"orcpt no type":  func(e *Envelope) { e.Recipients[0].ORcptType = "" },
		"empty notify":   func(e *Envelope) { e.Recipients[0].Notify = []string{} },
		"negative size":  func(e *Envelope) { e.Size = -1 },
		"bad body value": func(e *Envelope) { e.Body = "8bitmime" },
	} {
		e := sample()
		mod(e)
		if b, err := e.Bytes(); err == nil {
			t.Errorf("%s: Bytes() = %q, want an error", name, b)
		}
	}
	e := sample()
	e.Helo = strings.Repeat("h", MaxValue)
	if _, err := e.Bytes(); err != nil {
		t.Errorf("value of MaxValue bytes: %v", err)
	}
}
