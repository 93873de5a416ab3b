package reinject

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/spool"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func rejected(addr string, notify []string) RcptResult {
	return RcptResult{Recipient: spool.Recipient{Addr: addr, Notify: notify, ORcptType: "RFC822", ORcpt: "Orig-" + addr},
		Reply: Reply{Code: 550, Enhanced: "5.1.1", Text: "User unknown"}}
}

// parts parses a DSN and returns its header and its parts' types and bodies.
func parts(t *testing.T, dsn []byte) (mail.Header, []string, []string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(dsn))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, string(b))
	}
	return m.Header, types, bodies
}

func TestDSN(t *testing.T) {
	env := envelope("bob@example.net", "carol@example.net")
	env.EnvID = "QQ314159"
	orig := "Subject: original\nFrom: alice@example.org\n\nthe body\n"
	dsn, err := DSN(DSNOptions{ReportingMTA: "mx.example.org", RemoteMTA: "127.0.0.1", QueueID: "Q1"}, env,
		[]RcptResult{rejected("bob@example.net", nil), rejected("carol@example.net", []string{"SUCCESS"})},
		strings.NewReader(orig), now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dsn, []byte("\r")) {
		t.Error("DSN has CR: want LF line ends")
	}
	h, types, bodies := parts(t, dsn)
	if h.Get("To") != "<alice@example.org>" || h.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(h.Get("From"), "MAILER-DAEMON@mx.example.org") {
		t.Errorf("header %v", h)
	}
	if want := []string{"text/plain; charset=utf-8", "message/delivery-status", "message/rfc822"}; strings.Join(types, "|") != strings.Join(want, "|") {
		t.Fatalf("parts %q, want %q", types, want)
	}
	status := bodies[1]
	for _, want := range []string{"Reporting-MTA: dns; mx.example.org\n", "Original-Envelope-Id: QQ314159\n", "X-Qscan-Queue-ID: Q1\n",
		"Original-Recipient: rfc822; Orig-bob@example.net\n", "Final-Recipient: rfc822; bob@example.net\n", "Action: failed\n",
		"Status: 5.1.1\n", "Remote-MTA: dns; 127.0.0.1\n", "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n", "Arrival-Date: "} {
		if !strings.Contains(status, want) {
			t.Errorf("delivery-status lacks %q:\n%s", want, status)
		}
	}
	// carol asked for SUCCESS only: no failure report for her.
	if strings.Contains(string(dsn), "carol@example.net") {
		t.Error("DSN reports carol, whose NOTIFY excludes FAILURE")
	}
	if bodies[2] != orig {
		t.Errorf("returned message %q, want %q", bodies[2], orig)
	}
}

func TestDSNNotDue(t *testing.T) {
	env := envelope("bob@example.net")
	for name, c := range map[string]struct {
		sender string
		r      RcptResult
	}{
		"null sender":  {"", rejected("bob@example.net", nil)},
		"NOTIFY=NEVER": {"a@example.org", rejected("bob@example.net", []string{"NEVER"})},
		"NOTIFY=DELAY": {"a@example.org", rejected("bob@example.net", []string{"DELAY", "SUCCESS"})},
	} {
		env.Sender = c.sender
		dsn, err := DSN(DSNOptions{}, env, []RcptResult{c.r}, strings.NewReader("x\n"), now)
		if err != nil || dsn != nil {
			t.Errorf("%s: DSN = %q, %v, want none", name, dsn, err)
		}
	}
}

func TestDSNReturnsHeaders(t *testing.T) {
	orig := "Subject: s\nX-A: b\n\n" + strings.Repeat("body\n", 100)
	for name, c := range map[string]struct {
		ret  string
		max  int64
		full bool
	}{
		"RET=HDRS":            {"HDRS", 0, false},
		"RET=FULL":            {"FULL", 0, true},
		"FULL at the limit":   {"FULL", int64(len(orig)), true},
		"FULL over the limit": {"FULL", int64(len(orig)) - 1, false},
	} {
		env := envelope("bob@example.net")
		env.Return = c.ret
		dsn, err := DSN(DSNOptions{MaxReturnBytes: c.max}, env, []RcptResult{rejected("bob@example.net", nil)}, strings.NewReader(orig), now)
		if err != nil {
			t.Fatal(err)
		}
		_, types, bodies := parts(t, dsn)
		if c.full {
			if types[2] != "message/rfc822" || bodies[2] != orig {
				t.Errorf("%s: part %q %q, want the whole message", name, types[2], bodies[2])
			}
		} else if types[2] != "text/rfc822-headers" || bodies[2] != "Subject: s\nX-A: b\n" {
			t.Errorf("%s: part %q %q, want the header", name, types[2], bodies[2])
		}
	}
}

func TestDSNEnvelope(t *testing.T) {
	env := envelope("bob@example.net")
	d := DSNEnvelope(env, now)
	if d.Sender != "" || len(d.Recipients) != 1 || d.Recipients[0].Addr != "alice@example.org" {
		t.Errorf("DSNEnvelope = %+v", d)
	}
	if _, err := d.Bytes(); err != nil {
		t.Errorf("DSN envelope cannot be spooled: %v", err)
	}
}

// FuzzParseReply: whatever a downstream answers, parseReply must not
// panic and must give a printable, bounded text.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"2.0.0 Ok: queued as X", "5.1.1 User unknown", "Ok", "", "4.", "9.9.9 x", "5.1.1"} {
		f.Add(250, s)
	}
	f.Fuzz(func(t *testing.T, code int, text string) {
		r := parseReply(code, text)
		if len(r.Text) > 500 || strings.ContainsAny(r.Text, "\r\n") {
			t.Fatalf("text %q", r.Text)
		}
		_ = r.String()
		_ = r.Status()
	})
}
