package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
