package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// TestUndeliverableEnvelopeIsCounted: a qf whose sender holds a bare CR
// parses, but no outgoing qf can be written for it (the X-...-From header
// would carry the CR). That is the message's own fault: each try counts,
// and after max_attempts it is quarantined whole instead of being held
// for ever.
func TestUndeliverableEnvelopeIsCounted(t *testing.T) {
	e := newEnv(t)
	id := "6AM876nc000201"
	e.enqueue(id, "x\n", 0)
	p := filepath.Join(e.in, "qf"+id)
	os.WriteFile(p, []byte(strings.Replace(readFile(t, p), "S<a@example.org>", "S<a\rb@example.org>", 1)), 0o600)
	opt := e.options()
	pl := e.pipeline(opt)
	quarantined := 0
	for range opt.MaxAttempts + 2 {
		st, err := pl.RunBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		quarantined += st.Quarantined
		e.advance(opt.RetryMax + time.Second)
	}
	if quarantined != 1 || len(names(t, e.in)) != 0 {
		t.Errorf("after %d batches: %d quarantined, incoming %v; want the message quarantined as poison", opt.MaxAttempts+2, quarantined, names(t, e.in))
	}
	if got := quarantineEntries(t, e.quar); len(got) != 1 {
		t.Errorf("quarantine = %v", got)
	}
}

// TestUnreadableQueueFilesSetAside: queue files qscan cannot open (not
// readable by its user; the tests run as root, so the error is injected)
// are held while young, then set aside as Qf<ID>, sendmail's name for a
// lost queue file, with an error log line; the other messages go on.
func TestUnreadableQueueFilesSetAside(t *testing.T) {
	e := newEnv(t)
	bad, good := "6AM876nc000202", "6AM876nc000203"
	e.enqueue(bad, "x\n", 0)
	e.enqueue(good, "y\n", 0)
	pl := e.pipeline(e.options())
	pl.mta.(*Sendmail).lock = func(qf, df string) (*sendmail.Locked, error) {
		if strings.HasSuffix(qf, bad) {
			return nil, fmt.Errorf("lock %s: %w", df, &os.PathError{Op: "open", Path: df, Err: syscall.EACCES})
		}
		return sendmail.Lock(qf, df)
	}
	st, err := pl.RunBatch(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v; want the good message delivered", st, err)
	}
	if !pl.held.waiting(bad, e.now()) {
		t.Errorf("the unreadable young message is not held back")
	}
	if got := strings.Join(names(t, e.in), " "); got != "df"+bad+" qf"+bad {
		t.Errorf("incoming = %s, want the unreadable message still there", got)
	}
	e.advance(e.options().RetryMax + time.Minute) // older than SetAsideAfter
	if _, err := pl.RunBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(t, e.in), " "); got != "Qf"+bad+" df"+bad {
		t.Errorf("incoming = %s, want Qf%s (set aside) and its df", got, bad)
	}
	if pl.held.count() != 0 {
		t.Errorf("%d held after the set-aside, want 0", pl.held.count())
	}
	if left := pl.Left(); len(left) != 0 {
		t.Errorf("Left() = %v after the set-aside, want nothing", left)
	}
}
