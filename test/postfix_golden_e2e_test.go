//go:build e2e

package test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/test/stackutil"
)

var updatePostfixGolden = flag.Bool("update-postfix-golden", false,
	"write the queue files the real Postfix held into pkg/postfix/testdata")

// pfWant is what a golden queue file must say; pkg/postfix's golden test
// reads the same fields from <name>.want.json.
type pfWant struct {
	Sender       string       `json:"sender"`
	Recipients   []pfWantRcpt `json:"recipients"`
	EnvID        string       `json:"envid,omitempty"`
	Ret          int          `json:"ret,omitempty"`
	ClientAddr   string       `json:"client_addr"`
	Helo         string       `json:"helo"`
	Protocol     string       `json:"protocol"`
	SASLMethod   string       `json:"sasl_method,omitempty"`
	SASLUsername string       `json:"sasl_username,omitempty"`
	SMTPUTF8     bool         `json:"smtputf8,omitempty"`
	Header       []string     `json:"header"` // lines the header holds
	Body         string       `json:"body"`
	LongRecords  bool         `json:"long_records,omitempty"`
}

type pfWantRcpt struct {
	Addr     string `json:"addr"`
	Orig     string `json:"orig"`
	DSNOrcpt string `json:"dsn_orcpt"`
	Notify   int    `json:"notify,omitempty"`
}

type pfCase struct {
	name string
	ipv6 bool // submit to smtpd on [::1]
	env  stackutil.Envelope
	msg  string
	want pfWant
}

func rcpt(addr string) pfWantRcpt {
	return pfWantRcpt{Addr: addr, Orig: addr, DSNOrcpt: "rfc822;" + addr}
}

func postfixCases(p stackutil.Postfix) []pfCase {
	long := strings.Repeat("0123456789abcdef", 200) // 3200 bytes: L records
	refs := "References:"
	for i := range 30 {
		refs += fmt.Sprintf("\n <msg%02d.folded.header.line@sender.example>", i)
	}
	cs := []pfCase{{
		name: "multi-rcpt",
		env:  stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test", "carol@example.test", "dave@example.test"}, Helo: "multi.example.test"},
		msg:  "From: alice@sender.example\nTo: bob@example.test, carol@example.test\nCc: dave@example.test\nSubject: three recipients\nMessage-ID: <multi@sender.example>\n\nHello all three.\n.a line with a leading dot\n",
		want: pfWant{Sender: "alice@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test"), rcpt("carol@example.test"), rcpt("dave@example.test")},
			ClientAddr: "127.0.0.1", Helo: "multi.example.test", Protocol: "ESMTP",
			Header: []string{"Subject: three recipients", "Cc: dave@example.test"}, Body: "Hello all three.\n.a line with a leading dot\n"},
	}, {
		name: "dsn",
		env: stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test", "carol@example.test"}, Helo: "dsn.example.test",
			Mail: smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "qscan-envid-1"},
			Rcpt: []smtp.RcptOptions{
				{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure}, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "orig-bob@example.test"},
				{Notify: []smtp.DSNNotify{smtp.DSNNotifyNever}},
			}},
		msg: "From: alice@sender.example\nTo: bob@example.test\nSubject: dsn options\nMessage-ID: <dsn@sender.example>\n\nDSN body.\n",
		want: pfWant{Sender: "alice@sender.example", EnvID: "qscan-envid-1", Ret: postfix.RetHdrs,
			Recipients: []pfWantRcpt{
				{Addr: "bob@example.test", Orig: "bob@example.test", DSNOrcpt: "RFC822;orig-bob@example.test", Notify: postfix.NotifySuccess | postfix.NotifyFailure},
				{Addr: "carol@example.test", Orig: "carol@example.test", DSNOrcpt: "rfc822;carol@example.test", Notify: postfix.NotifyNever}},
			ClientAddr: "127.0.0.1", Helo: "dsn.example.test", Protocol: "ESMTP", Header: []string{"Subject: dsn options"}, Body: "DSN body.\n"},
	}, {
		name: "null-sender",
		env:  stackutil.Envelope{From: "", To: []string{"bob@example.test"}, Helo: "bounce.example.test"},
		msg:  "From: MAILER-DAEMON@sender.example\nTo: bob@example.test\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce@sender.example>\n\nThis is a bounce.\n",
		want: pfWant{Sender: "", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "127.0.0.1", Helo: "bounce.example.test", Protocol: "ESMTP",
			Header: []string{"From: MAILER-DAEMON@sender.example"}, Body: "This is a bounce.\n"},
	}, {
		name: "smtputf8",
		env:  stackutil.Envelope{From: "jürgen@sender.example", To: []string{"bob@example.test"}, Helo: "utf8.example.test", Mail: smtp.MailOptions{UTF8: true}},
		msg:  "From: Jürgen <jürgen@sender.example>\nTo: bob@example.test\nSubject: Grüße aus Köln\nMessage-ID: <utf8@sender.example>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße, 8-bit body: \xc3\xa9\xc3\xa8\n",
		want: pfWant{Sender: "jürgen@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "127.0.0.1", Helo: "utf8.example.test",
			Protocol: "ESMTP", SMTPUTF8: true, Header: []string{"Subject: Grüße aus Köln"}, Body: "Grüße, 8-bit body: \xc3\xa9\xc3\xa8\n"},
	}, {
		name: "long-headers",
		env:  stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test"}, Helo: "long.example.test"},
		msg:  "From: alice@sender.example\nTo: bob@example.test\nSubject: long folded headers\nMessage-ID: <long@sender.example>\n" + refs + "\nX-Long: " + long + "\n\nbody line\n" + long + "\n",
		want: pfWant{Sender: "alice@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "127.0.0.1", Helo: "long.example.test",
			Protocol: "ESMTP", Header: []string{" <msg00.folded.header.line@sender.example>", " <msg29.folded.header.line@sender.example>", "X-Long: " + long},
			Body: "body line\n" + long + "\n", LongRecords: true},
	}, {
		name: "xclient-ipv6",
		env:  stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test"}, Helo: "v6.example.test", XClient: "ADDR=IPv6:2001:db8::25 NAME=v6client.example.test"},
		msg:  "From: alice@sender.example\nTo: bob@example.test\nSubject: from an IPv6 client\nMessage-ID: <v6@sender.example>\n\nv6\n",
		want: pfWant{Sender: "alice@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "2001:db8::25", Helo: "v6.example.test",
			Protocol: "ESMTP", Header: []string{"Subject: from an IPv6 client"}, Body: "v6\n"},
	}, {
		name: "sasl",
		env:  stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test"}, Helo: "sasl.example.test", SASL: [2]string{p.SASLUser, p.SASLPass}},
		msg:  "From: alice@sender.example\nTo: bob@example.test\nSubject: authenticated\nMessage-ID: <sasl@sender.example>\n\nlogged in\n",
		want: pfWant{Sender: "alice@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "127.0.0.1", Helo: "sasl.example.test",
			Protocol: "ESMTP", SASLMethod: "PLAIN", SASLUsername: p.SASLUser + "@postfix-in.example.test", Header: []string{"Subject: authenticated"}, Body: "logged in\n"},
	}}
	if p.SMTP6 != "" {
		cs = append(cs, pfCase{
			name: "ipv6", ipv6: true,
			env: stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test"}, Helo: "loopback6.example.test"},
			msg: "From: alice@sender.example\nTo: bob@example.test\nSubject: over ::1\nMessage-ID: <loop6@sender.example>\n\nloopback v6\n",
			want: pfWant{Sender: "alice@sender.example", Recipients: []pfWantRcpt{rcpt("bob@example.test")}, ClientAddr: "::1", Helo: "loopback6.example.test",
				Protocol: "ESMTP", Header: []string{"Subject: over ::1"}, Body: "loopback v6\n"},
		})
	}
	return cs
}

// TestPostfixGolden submits each case to the real Postfix 3.7, takes the
// file its header_checks put on hold and checks that pkg/postfix reads it
// as submitted and writes it back byte for byte. With
// -update-postfix-golden it stores the files in pkg/postfix/testdata.
func TestPostfixGolden(t *testing.T) {
	p := stackutil.RequirePostfix(t)
	clearHold(t, p)
	for _, c := range postfixCases(p) {
		t.Run(c.name, func(t *testing.T) {
			addr := p.SMTP
			if c.ipv6 {
				addr = p.SMTP6
			}
			if err := stackutil.SubmitEnvelope(addr, c.env, []byte(c.msg)); err != nil {
				t.Fatal(err)
			}
			es, err := p.WaitHeld(1, 30*time.Second)
			if err != nil || len(es) != 1 {
				t.Fatalf("held files: %v, %v", es, err)
			}
			raw, err := os.ReadFile(es[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, raw, c.want)
			if *updatePostfixGolden {
				writeGolden(t, c.name, raw, c.want)
			}
			if _, err := p.Run("postsuper", "-d", es[0].ID, postfix.Hold); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func clearHold(t *testing.T, p stackutil.Postfix) {
	t.Helper()
	if _, err := p.Run("postsuper", "-d", "ALL", postfix.Hold); err != nil {
		t.Fatal(err)
	}
}

func checkGolden(t *testing.T, raw []byte, w pfWant) {
	t.Helper()
	f, err := postfix.Parse(bytes.NewReader(raw), postfix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Bytes(), raw) {
		t.Error("parse → write changed the bytes")
	}
	e := f.Envelope()
	got := pfWant{Sender: e.Sender, EnvID: e.EnvID, Ret: e.Ret, ClientAddr: e.ClientAddr, Helo: e.Helo, Protocol: e.Protocol,
		SASLMethod: e.SASLMethod, SASLUsername: e.SASLUsername, SMTPUTF8: f.SizeFields()[5]&1 != 0}
	for _, r := range e.Recipients {
		got.Recipients = append(got.Recipients, pfWantRcpt{Addr: r.Addr, Orig: r.Orig, DSNOrcpt: r.DSNOrcpt, Notify: r.Notify})
	}
	gj, _ := json.Marshal(got)
	wcopy := w
	wcopy.Header, wcopy.Body, wcopy.LongRecords = nil, "", false
	wj, _ := json.Marshal(wcopy)
	if !bytes.Equal(gj, wj) {
		t.Errorf("envelope\n got %s\nwant %s", gj, wj)
	}
	hdr := string(f.Header())
	for _, line := range w.Header {
		if !strings.Contains("\n"+hdr, "\n"+line+"\n") {
			t.Errorf("header lacks line %.80q:\n%.600s", line, hdr)
		}
	}
	if string(f.Body()) != w.Body {
		t.Errorf("body = %.200q, want %.200q", f.Body(), w.Body)
	}
	hasL := false
	for _, r := range f.Records() {
		hasL = hasL || r.Type == postfix.RecCont && r.Off > 0 && len(r.Data) == postfix.LineLimit
	}
	if hasL != w.LongRecords {
		t.Errorf("long-line (L) records: %v, want %v", hasL, w.LongRecords)
	}
}

func writeGolden(t *testing.T, name string, raw []byte, w pfWant) {
	t.Helper()
	dir := filepath.Join("..", "pkg", "postfix", "testdata")
	j, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pf"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".want.json"), append(j, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
