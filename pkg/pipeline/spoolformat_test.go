package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/spool"
)

// writeFormatOne writes a spool entry as qscan wrote them before one-file
// entries: the envelope alone in ef<ID>, the message in mf<ID> (when data
// is not "-").
func (e *env) writeFormatOne(id, data string) {
	e.t.Helper()
	env := &spool.Envelope{Received: e.now(), Protocol: "ESMTP", Sender: "a@example.org", Recipients: []spool.Recipient{{Addr: "b@example.test"}}}
	b, err := env.Bytes()
	if err != nil {
		e.t.Fatal(err)
	}
	if data != "-" {
		os.WriteFile(filepath.Join(e.in, "mf"+id), []byte(data), 0o600)
	}
	os.WriteFile(filepath.Join(e.in, "ef"+id), b, 0o600)
}

// TestSpoolFormatOne: an entry of format 1 left in the spool by an older
// qscan is checked and sent like any other, both its files released; its
// envelope without its message file is set aside, not sent empty.
func TestSpoolFormatOne(t *testing.T) {
	e, opt, f := spoolEnv(t)
	e.writeFormatOne("OLD1", spoolMsg)
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	got := f.sent()
	if len(got) != 1 || !strings.HasSuffix(got[0].data, "\n\nline one\n.dot line\n\nlast line\n") || !strings.HasPrefix(got[0].data, "From: a@example.org\n") {
		t.Fatalf("sent %+v", got)
	}
	if left := names(t, e.in); len(left) != 0 {
		t.Errorf("spool keeps %v", left)
	}

	e.writeFormatOne("OLD2", "-")
	e.advance(opt.SetAsideAfter + opt.RetryMax)
	if _, err := p.RunBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.sent()) != 1 {
		t.Errorf("an envelope without its message was sent: %+v", f.sent()[1:])
	}
	if left := names(t, e.in); len(left) != 0 {
		t.Errorf("spool keeps %v, want the entry set aside", left)
	}
	meta, _ := filepath.Glob(filepath.Join(e.quar, "*", "*", "metadata.json"))
	if len(meta) != 1 {
		t.Fatalf("quarantine = %v, want the entry set aside", meta)
	}
	if m := readFile(t, meta[0]); !strings.Contains(m, "envelope without its message") {
		t.Errorf("set aside for another reason: %s", m)
	}
}

// TestSpoolWholeQuarantine: a one-file entry quarantined whole keeps the
// envelope alone (format 1, what a release reads) as the qf and the whole
// message as received as the df.
func TestSpoolWholeQuarantine(t *testing.T) {
	e, opt, f := spoolEnv(t)
	id := e.enqueueSpool("Subject: x\n\ninfected\n")
	opt.Checker = crashPolicy(true)
	p := e.pipeline(opt, infectSome)
	if st, err := p.RunBatch(ctx); err != nil || st.Quarantined != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	for _, m := range f.sent() {
		if m.env.Sender != "" {
			t.Errorf("the infected message was sent: %+v", m)
		}
	}
	q, _ := filepath.Glob(filepath.Join(e.quar, "*", "*", "qf"+id))
	if len(q) != 1 {
		t.Fatalf("quarantine entries with qf%s: %v", id, q)
	}
	env, err := spool.ParseEnvelope(strings.NewReader(readFile(t, q[0])), spool.Limits{})
	if err != nil || env.Sender != "a@example.org" {
		t.Errorf("quarantined qf: %+v, %v", env, err)
	}
	if got := readFile(t, filepath.Join(filepath.Dir(q[0]), "df"+id)); got != "Subject: x\n\ninfected\n" {
		t.Errorf("quarantined df = %q, want the message as received", got)
	}
}
