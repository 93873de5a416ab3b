package smtpfilter

import (
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/pkg/spool"
)

// msg has a line that starts with a dot (the client dot-stuffs it, the
// filter unstuffs it) and a bare CR (kept).
const msg = "From: a@example.org\r\nSubject: test\r\n\r\n.leading dot\r\nbare\rCR\r\nlast line\r\n"

// wantStored is msg as the spool keeps it: CRLF as LF.
const wantStored = "From: a@example.org\nSubject: test\n\n.leading dot\nbare\rCR\nlast line\n"

func TestESMTPParametersRecorded(t *testing.T) {
	s, sp := start(t, nil)
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ext := range []string{"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES", "XFORWARD"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO does not offer %s", ext)
		}
	}
	if ok, _ := c.Extension("CHUNKING"); ok {
		t.Error("EHLO offers CHUNKING")
	}
	if err := c.Mail("alice@example.org", &smtp.MailOptions{Size: 1234, Body: smtp.Body8BitMIME, UTF8: true,
		Return: smtp.DSNReturnHeaders, EnvelopeID: "QQ314159"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.net", &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure},
		OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "Bob+tag@example.net"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("josé@exämple.net", &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyNever}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("carol@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, msg)
	resp, err := w.CloseWithResponse()
	if err != nil {
		t.Fatal(err)
	}
	e, env, body := only(t, sp)
	if resp.StatusText != "2.0.0 Ok: queued as "+e.ID {
		t.Errorf("reply %q, want the spool ID %s", resp.StatusText, e.ID)
	}
	if body != wantStored {
		t.Errorf("stored message %q, want %q", body, wantStored)
	}
	want := &spool.Envelope{Received: env.Received, Listener: "127.0.0.1:0", Protocol: "ESMTP", Client: env.Client, Helo: "localhost",
		Sender: "alice@example.org", Return: "HDRS", EnvID: "QQ314159", Size: 1234, Body: "8BITMIME", SMTPUTF8: true,
		Recipients: []spool.Recipient{
			{Addr: "bob@example.net", Notify: []string{"SUCCESS", "FAILURE"}, ORcptType: "RFC822", ORcpt: "Bob+tag@example.net"},
			{Addr: "josé@exämple.net", Notify: []string{"NEVER"}},
			{Addr: "carol@example.net"},
		}}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("envelope\n%+v\nwant\n%+v", env, want)
	}
	if !strings.HasPrefix(env.Client, "127.0.0.1:") {
		t.Errorf("client %q", env.Client)
	}
}

func TestXForward(t *testing.T) {
	s, sp := start(t, nil)
	r := dialRaw(t, "tcp", addr(s))
	r.expect("220 ")
	r.send("EHLO mta.example.org")
	ehlo := r.expect("250-")
	if !strings.Contains(ehlo, "250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE LOGIN") {
		t.Errorf("EHLO reply does not offer XFORWARD:\n%s", ehlo)
	}
	// Pipelined as Postfix sends it: replies must come in command order.
	r.send("XFORWARD NAME=client.example.com ADDR=192.0.2.1 PORT=4711 PROTO=ESMTP",
		"XFORWARD HELO=[192.0.2.1] IDENT=4Xb1Lm SOURCE=REMOTE LOGIN=jo+20smith",
		"MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA")
	r.expect("250 2.0.0 Ok")
	r.expect("250 2.0.0 Ok")
	r.expect("250 2.0.0 Roger")
	r.expect("250 2.0.0 I'll make sure")
	r.expect("354 ")
	r.send("Subject: x", "", "XFORWARD NAME=in.the.body", "..stuffed", ".")
	r.expect("250 2.0.0 Ok: queued as ")
	_, env, body := only(t, sp)
	want := spool.XForward{Name: "client.example.com", Addr: "192.0.2.1", Port: "4711", Proto: "ESMTP",
		Helo: "[192.0.2.1]", Ident: "4Xb1Lm", Source: "REMOTE", Login: "jo smith"}
	if env.XForward != want {
		t.Errorf("XForward = %+v, want %+v", env.XForward, want)
	}
	if body != "Subject: x\n\nXFORWARD NAME=in.the.body\n.stuffed\n" {
		t.Errorf("body %q", body)
	}
	if env.Helo != "mta.example.org" || env.Protocol != "ESMTP" {
		t.Errorf("helo %q protocol %q", env.Helo, env.Protocol)
	}
	sp.Remove(func() []string { es, _ := sp.List(); return []string{es[0].ID} }()...)

	// The attributes last one transaction.
	r.send("MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA")
	r.expect("250 ")
	r.expect("250 ")
	r.expect("354 ")
	r.send("Subject: y", "", ".")
	r.expect("250 ")
	_, env, _ = only(t, sp)
	if !env.XForward.IsZero() {
		t.Errorf("second message inherited XFORWARD %+v", env.XForward)
	}

	// Errors.
	r.send("XFORWARD COLOR=red")
	r.expect("501 5.5.4 Bad XFORWARD attribute name")
	r.send("XFORWARD")
	r.expect("501 5.5.4")
	r.send("XFORWARD NAME=" + strings.Repeat("a", 256))
	r.expect("501 5.5.4 Bad XFORWARD attribute value")
	r.send("XFORWARD NAME=a+0Ab")
	r.expect("501 5.5.4 Bad XFORWARD attribute value")
	r.send("XFORWARD NAME=" + strings.Repeat("a", 255))
	r.expect("250 ")
	r.send("MAIL FROM:<a@example.org>")
	r.expect("250 ")
	r.send("XFORWARD ADDR=192.0.2.9")
	r.expect("503 5.5.1")
	r.send("MAIL FROM:<other@example.org>")
	r.expect("503 5.5.1 Error: nested MAIL")
	r.send("RSET")
	r.expect("250 ")
	r.send("QUIT")
	r.expect("221 ")
}

func TestSizeLimit(t *testing.T) {
	const max = 1000
	s, sp := start(t, func(o *Options) { o.MaxMessageBytes = max })
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if size, ok := c.MaxMessageSize(); !ok || size != max {
		t.Errorf("SIZE offered %d %v, want %d", size, ok, max)
	}
	var se *smtp.SMTPError
	if err := c.Mail("a@example.org", &smtp.MailOptions{Size: max + 1}); !errors.As(err, &se) || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Errorf("MAIL SIZE=%d: %v, want 552 5.3.4", max+1, err)
	}
	send := func(n int) error {
		if err := c.Mail("a@example.org", &smtp.MailOptions{Size: int64(n)}); err != nil {
			return err
		}
		if err := c.Rcpt("b@example.net", nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		// n bytes on the wire before the final dot, CRLF included.
		io.WriteString(w, "Subject: s\r\n\r\n"+strings.Repeat("x", n-len("Subject: s\r\n\r\n")-2)+"\r\n")
		return w.Close()
	}
	// go-smtp counts the dot-unstuffed bytes and refuses when a message
	// reaches MaxMessageBytes: max-1 is the largest that passes.
	if err := send(max - 1); err != nil {
		t.Errorf("message of %d bytes: %v", max-1, err)
	}
	if err := send(max); !errors.As(err, &se) || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Errorf("message of %d bytes: %v, want 552 5.3.4", max, err)
	}
	if err := send(max * 3); !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("message of %d bytes: %v, want 552", 3*max, err)
	}
	// Only the max-1 message is in the spool, 3 CRLF shorter as LF.
	if _, _, body := only(t, sp); len(body) != max-1-3 {
		t.Errorf("stored %d bytes, want %d", len(body), max-1-3)
	}
}

func TestMaxRecipients(t *testing.T) {
	s, sp := start(t, func(o *Options) { o.MaxRecipients = 2 })
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"r1@example.net", "r2@example.net"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatalf("RCPT %s: %v", r, err)
		}
	}
	var se *smtp.SMTPError
	if err := c.Rcpt("r3@example.net", nil); !errors.As(err, &se) || se.Code != 452 || se.EnhancedCode != (smtp.EnhancedCode{4, 5, 3}) {
		t.Errorf("third RCPT: %v, want 452 4.5.3", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: r\r\n\r\nx\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, env, _ := only(t, sp)
	if len(env.Recipients) != 2 {
		t.Errorf("recipients %+v, want the first two", env.Recipients)
	}
}

func TestClientsRefused(t *testing.T) {
	s, sp := start(t, func(o *Options) { o.Clients = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	r := dialRaw(t, "tcp", addr(s))
	r.expect("554 5.7.1 ")
	empty(t, sp)
	// The same address allowed: greeted.
	s2, _ := start(t, func(o *Options) { o.Clients = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	dialRaw(t, "tcp", addr(s2)).expect("220 ")
}

func TestBackPressure(t *testing.T) {
	var busy error = errors.New("clamd down")
	s, sp := start(t, func(o *Options) { o.Accepting = func() error { return busy } })
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var se *smtp.SMTPError
	if err := c.Mail("a@example.org", nil); !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) {
		t.Fatalf("MAIL while not accepting: %v, want 451 4.3.0", err)
	}
	if err := c.Rcpt("b@example.net", nil); err == nil {
		t.Error("RCPT accepted after a refused MAIL")
	}
	empty(t, sp)
	busy = nil
	c.Reset()
	if err := c.SendMail("a@example.org", []string{"b@example.net"}, strings.NewReader("Subject: ok\r\n\r\nx\r\n")); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	only(t, sp)
}
