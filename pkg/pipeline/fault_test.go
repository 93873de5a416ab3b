package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// infectSome finds a virus in the messages whose body says "infected".
var infectSome = stageFunc{"virus", func(ctx context.Context, m *message.Message) error {
	if !strings.Contains(string(m.Body), "infected") {
		return nil
	}
	return infect.f(ctx, m)
}}

// failingQuarantine cannot stage anything (a full disk).
type failingQuarantine struct{ Quarantine }

func (failingQuarantine) Stage(Quarantined) (string, string, error) {
	return "", "", errors.New("quarantine stage: no space left on device")
}

// readOnlyJournal makes every later journal write fail, as a full disk
// does.
func readOnlyJournal(t *testing.T, p *Pipeline) {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	p.journal.f.Close()
	p.journal.f = f
}

// TestFaultsLeaveAttempts: a failure that is not the messages' fault (the
// journal, the outgoing queue or the quarantine cannot be written: a full
// disk), repeated over more rounds than max_attempts, each round a fresh
// start as after the daemon exits, leaves every attempt count unchanged:
// once the fault is gone every message is delivered, none is taken for
// poison.
func TestFaultsLeaveAttempts(t *testing.T) {
	faults := map[string]func(t *testing.T, e *env, p *Pipeline){
		"journal prepare": func(t *testing.T, _ *env, p *Pipeline) { readOnlyJournal(t, p) },
		"journal commit": func(t *testing.T, _ *env, p *Pipeline) {
			p.failpoint = func(step string) {
				if step == "prepared" {
					readOnlyJournal(t, p)
				}
			}
		},
		"outgoing write": func(t *testing.T, e *env, p *Pipeline) {
			p.failpoint = func(step string) {
				if step != "prepared" {
					return
				}
				// A directory where a tf goes: its write fails.
				for _, n := range names(t, e.in) {
					if id, ok := strings.CutPrefix(n, "qf"); ok {
						os.Mkdir(filepath.Join(e.out, "tf"+id), 0o700)
					}
				}
			}
		},
		"quarantine stage": func(_ *testing.T, _ *env, p *Pipeline) {
			p.quarantine = failingQuarantine{p.quarantine}
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var ids []string
			for i := range 6 {
				id := fmt.Sprintf("6AM876nc00%04d", 100+i)
				body := "plain clean mail\n"
				if i%3 == 1 {
					body = "infected mail\n"
				}
				e.enqueue(id, body, 0)
				ids = append(ids, id)
			}
			opt := e.options()
			opt.Checker = crashPolicy(false)
			for range opt.MaxAttempts + 3 {
				p := e.pipeline(opt, infectSome)
				fault(t, e, p)
				p.RunBatch(ctx)
				p.Close()
				for _, id := range ids {
					os.Remove(filepath.Join(e.out, "tf"+id))
				}
			}
			p := e.pipeline(opt, infectSome)
			if _, err := p.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if _, err := os.Stat(filepath.Join(e.out, "qf"+id)); err != nil {
					t.Errorf("%s not delivered once the fault was gone: %v", id, err)
				}
			}
			if got := names(t, e.in); len(got) != 0 {
				t.Errorf("incoming = %v, want empty", got)
			}
			for _, q := range quarantineEntries(t, e.quar) {
				meta := readFile(t, filepath.Join(e.quar, "20261122", q, "metadata.json"))
				if strings.Contains(meta, "could not be processed") {
					t.Errorf("%s quarantined as poison after a fault that was not its own", q)
				}
			}
		})
	}
}

// TestTimeoutStopsAndCounts: a check that runs past message_timeout is
// stopped (its stage sees the context end and its goroutine exits, so
// its work units stop), and a message that times out at every try is
// quarantined as poison after max_attempts, like one that panics.
func TestTimeoutStopsAndCounts(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000200", "runs long\n", 0)
	var units atomic.Int64
	exited := make(chan int64, 10)
	long := stageFunc{"explode", func(ctx context.Context, _ *message.Message) error {
		for ctx.Err() == nil {
			units.Add(1) // a unit of work, then a look at the context
			runtime.Gosched()
		}
		exited <- units.Load()
		return ctx.Err()
	}}
	opt := e.options()
	opt.MessageTimeout = 20 * time.Millisecond
	p := e.pipeline(opt, long)
	for i := range opt.MaxAttempts {
		if st, err := p.RunBatch(ctx); err != nil || st.Held != 1 {
			t.Fatalf("try %d: RunBatch = %+v, %v; want the message held", i+1, st, err)
		}
		select {
		case <-exited:
		case <-time.After(30 * time.Second): // a guard against a hang, not a measure
			t.Fatalf("try %d: the timed-out check is still running (%d work units)", i+1, units.Load())
		}
		e.advance(opt.RetryMax)
	}
	if st, err := p.RunBatch(ctx); err != nil || st.Quarantined != 1 {
		t.Fatalf("RunBatch after %d timeouts = %+v, %v; want the message quarantined", opt.MaxAttempts, st, err)
	}
	if len(exited) != 0 {
		t.Errorf("the checks ran again after max_attempts")
	}
	meta := readFile(t, filepath.Join(e.quar, "20261122", "6AM876nc000200", "metadata.json"))
	if !strings.Contains(meta, fmt.Sprintf("could not be processed in %d attempts", opt.MaxAttempts)) {
		t.Errorf("quarantine reason is not the attempts: %s", meta)
	}
}

// TestCheckerStopsAtContextEnd: once a message's context has ended, no
// further stage is started for it, even when the stage that saw the end
// swallowed it.
func TestCheckerStopsAtContextEnd(t *testing.T) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	later := 0
	c := NewChecker([]Stage{
		stageFunc{"explode", func(context.Context, *message.Message) error { cancel(); return nil }},
		stageFunc{"virus", func(context.Context, *message.Message) error { later++; return nil }},
	}, Options{})
	_, err := c.run(cctx, &message.Message{ID: "x"})
	if later != 0 {
		t.Errorf("a stage ran after the context ended")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("run = %v, want the context's error", err)
	}
}

// fullStore is an attempts store on a full disk: counting works (SQLite
// had room in its pages) but taking back does not, while full is set.
type fullStore struct {
	Attempts
	full *atomic.Bool
}

func (s fullStore) UndoAttempt(ctx context.Context, id string) error {
	if s.full.Load() {
		return errors.New("store undo attempt: database or disk is full")
	}
	return s.Attempts.UndoAttempt(ctx, id)
}

// TestUndoLostToFullStore: when the store cannot take an attempt back
// either, the attempt is taken back before the next ones are counted (and
// none is counted before): over more rounds than max_attempts of a full
// disk, then space again, every message is delivered, none is poison.
func TestUndoLostToFullStore(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 4 {
		id := fmt.Sprintf("6AM876nc00%04d", 300+i)
		e.enqueue(id, "plain clean mail\n", 0)
		ids = append(ids, id)
	}
	opt := e.options()
	p := e.pipeline(opt)
	var full atomic.Bool
	full.Store(true)
	p.attempts = fullStore{Attempts: e.st, full: &full}
	p.failpoint = func(step string) {
		if step == "prepared" && full.Load() {
			for _, id := range ids {
				os.Mkdir(filepath.Join(e.out, "tf"+id), 0o700) // the tf write fails
			}
		}
	}
	for range opt.MaxAttempts + 3 {
		p.RunBatch(ctx)
		for _, id := range ids {
			os.Remove(filepath.Join(e.out, "tf"+id))
		}
		e.advance(opt.RetryMax)
	}
	full.Store(false)
	if _, err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(e.out, "qf"+id)); err != nil {
			t.Errorf("%s not delivered once the disk had room: %v", id, err)
		}
	}
	if q := quarantineEntries(t, e.quar); len(q) != 0 {
		t.Errorf("quarantined (as poison) after a full disk: %v", q)
	}
}
