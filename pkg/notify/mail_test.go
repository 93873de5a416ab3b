package notify

import (
	"bytes"
	"errors"
	"mime"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/sendmail"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))

func testOpts() MailOptions {
	return MailOptions{Now: func() time.Time { return testNow }, Hostname: "mx1.example.org",
		OrgName: "yoursite", Rand: bytes.NewReader(make([]byte, 64))}
}

func TestMailBytes(t *testing.T) {
	m := Mail{From: "postmaster@example.org", FromName: "qscan", To: []string{"postmaster@example.org", "sec@example.org"},
		Subject: "Warning: E-mail viruses detected", Body: []byte("line one\r\nline two")}
	got, err := m.Bytes(testOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := "Date: Wed, 04 Mar 2026 05:06:07 +0100\n" +
		"From: \"qscan\" <postmaster@example.org>\n" +
		"To: postmaster@example.org,\n sec@example.org\n" +
		"Subject: Warning: E-mail viruses detected\n" +
		"Message-ID: <20260304040607.00000000000000000000@mx1.example.org>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: 7bit\n" +
		"Auto-Submitted: auto-generated\n" +
		"X-yoursite-QScan: generated\n" +
		"\nline one\nline two\n"
	if string(got) != want {
		t.Errorf("Mail.Bytes =\n%s\nwant\n%s", got, want)
	}
}

// TestMailQueues checks that sendmail.NewQf takes the header of a French
// report, as the pipeline queues it, and that a mail reader decodes it.
func TestMailQueues(t *testing.T) {
	tm := load(t, "fr")
	data := sample(Postmaster)
	subject, err := tm.Subject(Postmaster, data)
	if err != nil {
		t.Fatal(err)
	}
	body, err := tm.Render(Postmaster, data)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Mail{From: "postmaster@example.org", FromName: "Filtre qscan", To: []string{"postmaster@example.org"},
		Subject: subject, Body: body}.Bytes(testOpts())
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("\n\n"))
	header, df := raw[:i+1], raw[i+2:]
	q, err := sendmail.NewQf("", []string{"postmaster@example.org"}, header, sendmail.NewOpts{Time: testNow, BodySize: int64(len(df))})
	if err != nil {
		t.Fatalf("sendmail.NewQf refused the report header: %v\n%s", err, header)
	}
	if q.Sender() != "" {
		t.Errorf("qf sender = %q, want <>", q.Sender())
	}
	if v, _ := q.Header("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("qf Auto-Submitted = %q", v)
	}
	if bytes.IndexFunc(raw, func(r rune) bool { return r >= 0x80 }) >= 0 {
		t.Errorf("report mail is not 7-bit clean")
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.GetHeader("Subject"); got != subject {
		t.Errorf("decoded Subject = %q, want %q", got, subject)
	}
	if !strings.Contains(env.Text, "Expéditeur : alice@example.net") {
		t.Errorf("decoded body lacks the sender line:\n%s", env.Text)
	}
	if got := env.GetHeader("From"); !strings.Contains(got, "Filtre qscan") {
		t.Errorf("From = %q", got)
	}
}

func TestMailErrors(t *testing.T) {
	ok := Mail{From: "postmaster@example.org", To: []string{"a@example.org"}, Subject: "s", Body: []byte("b")}
	tests := []struct {
		name string
		edit func(*Mail, *MailOptions)
		want error
	}{
		{"header in recipient", func(m *Mail, _ *MailOptions) { m.To = []string{"a@example.org\nBcc: x@evil"} }, ErrBadAddress},
		{"blank in from", func(m *Mail, _ *MailOptions) { m.From = "post master@example.org" }, ErrBadAddress},
		{"angle in recipient", func(m *Mail, _ *MailOptions) { m.To = []string{"<a@example.org>"} }, ErrBadAddress},
		{"no recipient", func(m *Mail, _ *MailOptions) { m.To = nil }, ErrBadAddress},
		{"body too large", func(m *Mail, o *MailOptions) { o.MaxBody = 10; m.Body = make([]byte, 11) }, ErrTooLarge},
	}
	for _, tt := range tests {
		m, o := ok, testOpts()
		tt.edit(&m, &o)
		if _, err := m.Bytes(o); !errors.Is(err, tt.want) {
			t.Errorf("%s: Bytes error = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := ok.Bytes(MailOptions{}); err == nil {
		t.Errorf("Bytes without a clock succeeded")
	}
}

// TestHostileData renders reports and builds mails from hostile message
// data: nothing is evaluated and nothing reaches the header unescaped.
func TestHostileData(t *testing.T) {
	m := &message.Message{
		ID: "6AM8Fa4W008391",
		Envelope: message.Envelope{Sender: "alice@example.net", Recipients: []string{"bob@example.org"},
			ClientIP: netip.MustParseAddr("192.0.2.7")},
		Header: []byte("Subject: hi\r\nBcc: victim@example.com\r\n\tmore\nMessage-ID: <x@y>\n\n"),
		Parts:  []message.Part{{Filename: `{{.}}{{template "subject" .}}{{printf "%s" "pwn"}}` + "\x1b[31m"}},
		Reports: []message.Report{{Kind: message.KindVirus, Part: 0, Name: strings.Repeat("V", 10<<10),
			Text: "Virus '" + strings.Repeat("V", 10<<10) + "' found\r\nBcc: x@evil"}},
	}
	m.Header = append([]byte("Subject: =?utf-8?q?a=0D=0ABcc=3A_evil=40x?= \r\n  {{.Sender}}\n"), m.Header...)
	n := NewNotice(m, "/q/20260304/6AM8Fa4W008391", true)
	if strings.ContainsAny(n.Subject, "\r\n") || strings.Contains(n.Subject, "\x1b") {
		t.Errorf("Notice.Subject = %q, want one clean line", n.Subject)
	}
	if len(n.Reports[0]) > maxField {
		t.Errorf("report line of %d bytes, want at most %d", len(n.Reports[0]), maxField)
	}
	tm := load(t, "en")
	data := SenderData{Site: Site{OrgLongName: "Org"}, Notice: n}
	body, err := tm.Render(SenderVirus, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{{.}}{{template "subject" .}}{{printf "%s" "pwn"}}`, "{{.Sender}}"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks the literal %q:\n%s", want, body)
		}
	}
	if bytes.Count(body, []byte("pwn")) != bytes.Count(body, []byte(`{{printf "%s" "pwn"}}`)) ||
		bytes.Contains(body, []byte("E-mail viruses detected")) {
		t.Errorf("template syntax in data was evaluated:\n%s", body)
	}
	if bytes.ContainsAny(body, "\r\x1b") {
		t.Errorf("control characters reached the body")
	}
	raw, err := Mail{From: "postmaster@example.org", To: []string{"alice@example.net"},
		Subject: "Re: " + n.Subject + "\r\nBcc: evil@example.com", Body: body}.Bytes(testOpts())
	if err != nil {
		t.Fatal(err)
	}
	header := string(raw[:bytes.Index(raw, []byte("\n\n"))])
	for _, l := range strings.Split(header, "\n") {
		if strings.HasPrefix(strings.ToLower(l), "bcc") || len(l) > 998 {
			t.Errorf("header line %.80q injected or too long", l)
		}
	}
	if strings.Count(header, "\nSubject:") != 1 {
		t.Errorf("header:\n%s", header)
	}
	if len(header) > 4000 {
		t.Errorf("header of %d bytes: subject not bounded", len(header))
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
		max      int
	}{
		{"plain", "plain", 200},
		{"a\r\nBcc: x", "a Bcc: x", 200},
		{"Grüße", "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", 200},
		{"looks =?encoded?=", "=?utf-8?q?looks_=3D=3Fencoded=3F=3D?=", 200},
		{"abcdefghijk", "abcdefg...", 10},
		{strings.Repeat("word ", 20), strings.TrimSpace(strings.Repeat("word ", 14)) + "\n " + strings.TrimSpace(strings.Repeat("word ", 6)), 200},
	}
	for _, tt := range tests {
		if got := HeaderValue(tt.in, tt.max); got != tt.want {
			t.Errorf("HeaderValue(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// FuzzHeaderValue: whatever goes in, the value is printable ASCII folded
// with LF + blank, with lines of at most 78 bytes after "Subject: ", and a
// mail reader decodes it to one line.
func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{"hello", "a\r\nBcc: x", "Grüße =?utf-8?q?x?=", strings.Repeat("é", 300), "\xff\xfe", strings.Repeat("x", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := HeaderValue(s, DefaultMaxSubject)
		for i, l := range strings.Split(v, "\n") {
			if i > 0 && !strings.HasPrefix(l, " ") {
				t.Fatalf("HeaderValue(%q): line %d %q is not a continuation", s, i, l)
			}
			if len("Subject: ")+len(l) > 998 {
				t.Fatalf("HeaderValue(%q): line of %d bytes", s, len(l))
			}
			if !isPrintableASCII(l) {
				t.Fatalf("HeaderValue(%q): line %q not printable ASCII", s, l)
			}
			if strings.HasPrefix(l, " =?") && len(l) > 78 {
				t.Fatalf("HeaderValue(%q): encoded line %q longer than 78", s, l)
			}
		}
		d := mime.WordDecoder{}
		dec, err := d.DecodeHeader(strings.ReplaceAll(v, "\n ", " "))
		if err != nil {
			t.Fatalf("HeaderValue(%q) = %q: undecodable: %v", s, v, err)
		}
		if strings.ContainsAny(dec, "\r\n\x00") {
			t.Fatalf("HeaderValue(%q) decodes to %q with a line break", s, dec)
		}
	})
}

func TestNewReplacementData(t *testing.T) {
	m := &message.Message{ID: "6AM8Fa4W008391", Parts: []message.Part{{Filename: "a.exe\r\n"}}}
	r := message.Report{Kind: message.KindFilename, Part: 0, Text: "Blocked filename a.exe", User: "a.exe: blocked\nsecond line"}
	d := NewReplacementData(m, r, Site{OrgName: "yoursite", Hostname: "mx1"}, "/q", testNow)
	want := ReplacementData{Filename: "a.exe", Report: "a.exe: blocked\nsecond line", Date: "Wed, 04 Mar 2026 05:06:07 +0100",
		DateNumber: "20260304", ID: "6AM8Fa4W008391", OrgName: "yoursite", QuarantineDir: "/q", Hostname: "mx1"}
	if d != want {
		t.Errorf("NewReplacementData = %+v, want %+v", d, want)
	}
	body, err := load(t, "en").Render(DeletedFilename, d)
	if err != nil || !bytes.Contains(body, []byte("   a.exe: blocked\n   second line\n")) {
		t.Errorf("deleted.filename = %q, %v; want the report indented line by line", body, err)
	}
	r.Part = -1
	if d := NewReplacementData(m, r, Site{}, "", testNow); d.Filename != "the entire message" {
		t.Errorf("whole-message Filename = %q", d.Filename)
	}
}
