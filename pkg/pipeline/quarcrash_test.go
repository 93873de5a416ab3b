package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
)

// crash is what a modelled kill panics with.
type crash struct{ at string }

// crashingQuarantine kills the pipeline (panics) right after its n-th
// Stage has made an entry durable.
type crashingQuarantine struct {
	Quarantine
	n, stages int
}

func (c *crashingQuarantine) Stage(q Quarantined) (string, string, error) {
	staged, dir, err := c.Quarantine.Stage(q)
	if c.stages++; c.stages == c.n {
		panic(crash{"after stage"})
	}
	return staged, dir, err
}

// runUntilCrash runs one batch of p, which must be killed (panic with
// crash) on the way, then closes it as a kill would leave it.
func runUntilCrash(t *testing.T, p *Pipeline) {
	t.Helper()
	defer func() {
		r := recover()
		if _, ok := r.(crash); !ok {
			t.Fatalf("the batch was not killed (recovered %v)", r)
		}
		p.journal.close()
	}()
	p.RunBatch(ctx)
}

// plainCleaner is fakeCleaner without its record, safe for several
// messages checked at once.
type plainCleaner struct{}

func (plainCleaner) Clean(*message.Message, *message.Decision) ([]byte, []message.HeaderEdit, error) {
	return []byte("cleaned body\n"), nil, nil
}

// crashPolicy cleans infected messages (whole = false) or keeps them back
// whole.
func crashPolicy(whole bool) CheckerOptions {
	return CheckerOptions{Cleaner: plainCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: !whole, CleanValue: "clean", InfectedValue: "infected"}
	}}
}

// TestQuarantineCrash: a kill at each step between quarantining and the
// end of the batch commit, then start-up recovery and the next batches:
// every message has exactly one quarantine entry (no ID.2), nothing
// staged is left, and each cleaned message goes out once.
func TestQuarantineCrash(t *testing.T) {
	steps := []string{"after stage 1", "after stage 3", "staged", "prepared", "committed", "published"}
	for _, whole := range []bool{false, true} {
		for _, step := range steps {
			t.Run(fmt.Sprintf("whole=%v/%s", whole, step), func(t *testing.T) {
				e := newEnv(t)
				ids := e.enqueueInOrder(3)
				opt := e.options()
				opt.Checker = crashPolicy(whole)
				p1 := e.pipeline(opt, infect)
				if n, ok := strings.CutPrefix(step, "after stage "); ok {
					p1.quarantine = &crashingQuarantine{Quarantine: p1.quarantine, n: int(n[0] - '0')}
				} else {
					p1.failpoint = func(s string) {
						if s == step {
							panic(crash{s})
						}
					}
				}
				runUntilCrash(t, p1)

				p2 := e.pipeline(opt, infect) // start-up recovery
				if _, err := p2.Drain(ctx); err != nil {
					t.Fatal(err)
				}
				checkOneEntryEach(t, e, ids, whole)
			})
		}
	}
}

// checkOneEntryEach checks the end state after a crash and a drain.
func checkOneEntryEach(t *testing.T, e *env, ids []string, whole bool) {
	t.Helper()
	if got := quarantineEntries(t, e.quar); strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("quarantine entries = %v, want one per message %v", got, ids)
	}
	all, _ := filepath.Glob(filepath.Join(e.quar, "*", "*"))
	if len(all) != len(ids) {
		t.Errorf("quarantine holds %d directories, want %d: %v", len(all), len(ids), all)
	}
	if got := names(t, e.in); len(got) != 0 {
		t.Errorf("incoming = %v, want released", got)
	}
	for _, id := range ids {
		_, err := os.Stat(filepath.Join(e.out, "qf"+id))
		if delivered := err == nil; delivered == whole {
			t.Errorf("%s delivered = %v, want %v", id, delivered, !whole)
		}
	}
	if out := names(t, e.out); whole && len(out) != 0 || !whole && len(out) != 2*len(ids) {
		t.Errorf("outgoing = %v", out)
	}
}

// TestQuarantineRepeatedCrashes: kills at every step, one after the
// other, each followed by a restart, before the queue drains.
func TestQuarantineRepeatedCrashes(t *testing.T) {
	for _, whole := range []bool{false, true} {
		e := newEnv(t)
		ids := e.enqueueInOrder(6)
		opt := e.options()
		opt.Checker = crashPolicy(whole)
		opt.MaxAttempts = 20
		opt.MaxMessages = 2
		for i, step := range []string{"staged", "prepared", "staged", "committed", "prepared", "published", "staged"} {
			p := e.pipeline(opt, infect)
			p.failpoint = func(s string) {
				if s == step {
					panic(crash{s})
				}
			}
			if len(names(t, e.in)) == 0 {
				t.Fatalf("whole=%v: queue drained before kill %d", whole, i)
			}
			runUntilCrash(t, p)
		}
		p := e.pipeline(opt, infect)
		if _, err := p.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		checkOneEntryEach(t, e, ids, whole)
	}
}

// TestQuarantineJournalFull: when the prepare record cannot be written
// (a full disk) the staged entries go at once, not at the next start,
// and the retry makes one entry per message.
func TestQuarantineJournalFull(t *testing.T) {
	e := newEnv(t)
	ids := e.enqueueInOrder(2)
	opt := e.options()
	opt.Checker = crashPolicy(false)
	p := e.pipeline(opt, infect)
	good := p.journal.f
	p.journal.f, _ = os.Open(os.DevNull) // read-only: every write fails
	if _, err := p.RunBatch(ctx); err == nil {
		t.Fatal("RunBatch with an unwritable journal: no error")
	}
	if st, _ := filepath.Glob(filepath.Join(e.quar, "*", ".qscan-tmp-*")); len(st) != 0 {
		t.Errorf("staged entries left after the failed commit: %v", st)
	}
	p.journal.f.Close()
	p.journal.f = good
	p.held.release(ids[0])
	p.held.release(ids[1])
	if _, err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkOneEntryEach(t, e, ids, false)
}

// TestQuarantineStagedOrphan: a staged entry whose message is no longer
// in the incoming queue (removed by hand after a crash) is kept by
// recovery, as the only copy of the message; one whose message is still
// queued is removed.
func TestQuarantineStagedOrphan(t *testing.T) {
	e := newEnv(t)
	ids := e.enqueueInOrder(2)
	opt := e.options()
	opt.Checker = crashPolicy(true)
	p1 := e.pipeline(opt, infect)
	p1.failpoint = func(s string) {
		if s == "staged" {
			panic(crash{s})
		}
	}
	runUntilCrash(t, p1)
	os.Remove(filepath.Join(e.in, "qf"+ids[0]))
	os.Remove(filepath.Join(e.in, "df"+ids[0]))
	e.pipeline(opt) // recovery only
	if got := quarantineEntries(t, e.quar); strings.Join(got, " ") != ids[0] {
		t.Errorf("after recovery entries = %v, want the orphan %s kept", got, ids[0])
	}
	if st, _ := filepath.Glob(filepath.Join(e.quar, "*", ".qscan-tmp-*")); len(st) != 0 {
		t.Errorf("staged entries left: %v", st)
	}
}

// TestRemovedPartsOnce: an attachment the checks report several times
// (a virus in the archive, the same virus and a blocked name in its
// member) is kept once, as the MIME part that was removed, with every
// report.
func TestRemovedPartsOnce(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000077", "original body\n", 0)
	opt := e.options()
	opt.Checker = crashPolicy(false)
	zipped := stageFunc{"virus", func(_ context.Context, m *message.Message) error {
		m.Parts = []message.Part{{Index: 0, Parent: -1, MIMEPath: "1"},
			{Index: 1, Parent: -1, MIMEPath: "2", Filename: "files.zip", Data: []byte("PK zip"), Archive: true},
			{Index: 2, Parent: 1, MIMEPath: "2", Filename: "eicar.com", Data: []byte("X5O!")}}
		for _, r := range []message.Report{
			{Kind: message.KindFilename, Part: 2, Text: "Filename: eicar.com: Windows/DOS Executable", Action: message.ActionReplace},
			{Kind: message.KindVirus, Part: 1, Name: "Eicar", Text: "Virus 'Eicar' found in file files.zip", Action: message.ActionReplace},
			{Kind: message.KindVirus, Part: 2, Name: "Eicar", Text: "Virus 'Eicar' found in file eicar.com", Action: message.ActionReplace},
			{Kind: message.KindVirus, Part: 2, Name: "Eicar", Text: "Virus 'Eicar' found in file eicar.com", Action: message.ActionReplace},
		} {
			m.AddReport(r)
		}
		return nil
	}}
	p := e.pipeline(opt, zipped)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	entries := quarantineEntries(t, e.quar)
	if len(entries) != 1 {
		t.Fatalf("quarantine = %v", entries)
	}
	dir := filepath.Join(e.quar, "20261122", entries[0])
	parts, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	if len(parts) != 1 || readFile(t, parts[0]) != "PK zip" {
		t.Fatalf("stored parts = %v, want the zip once", parts)
	}
	meta := readFile(t, filepath.Join(dir, "metadata.json"))
	for _, want := range []string{`"filename": "files.zip"`, "Windows/DOS Executable", "found in file files.zip", "found in file eicar.com"} {
		if !strings.Contains(meta, want) {
			t.Errorf("metadata lacks %q:\n%s", want, meta)
		}
	}
	if n := strings.Count(meta, `"file": "part-`); n != 1 {
		t.Errorf("metadata lists %d part files, want 1:\n%s", n, meta)
	}
}
