//go:build e2e || reliability

package test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestPostfixCrash: `qscan run` with the shipped configuration (mta =
// "postfix") is killed with SIGKILL at random moments while it drains
// mail that came in by SMTP through the real Postfix, and restarted each
// time; see crashMTA.
func TestPostfixCrash(t *testing.T) { crashMTA(t, postfixRig(t)) }

// TestEximCrash: the same with the real Exims (mta = "exim").
func TestEximCrash(t *testing.T) { crashMTA(t, eximRig(t)) }

// crashMTA kills the daemon mtaCrashKills times (12 in the e2e suite, 50
// under the reliability tag) 20–400 ms (seeded) after its start or, every
// other time, up to 100 ms after its first commit, then lets a last
// daemon drain the rest and has the MTA deliver: every message reaches
// the sink exactly once (infected ones, one in ten, cleaned), nothing is
// left in either queue, and the quarantine holds one entry per infected
// message.
func crashMTA(t *testing.T, r mtaRig) {
	r.clean(t)
	n := mtaCrashKills * 80
	msgs := make([]stackutil.Msg, n)
	infected := 0
	for i := range msgs {
		msgs[i] = stackutil.Message("crash", i, r.name, i%10 == 7)
		if msgs[i].Infected {
			infected++
		}
	}
	r.submit(t, msgs)
	root := t.TempDir()
	cfg := r.config(t, root)
	bin := stackutil.Binary(t)
	// The log outlives the test: a failure names it.
	logFile := filepath.Join(os.TempDir(), "qscan-mta-crash-"+r.name+".log")
	os.Remove(logFile)
	defer func() {
		if t.Failed() {
			t.Logf("qscan's log: %s", logFile)
		}
	}()
	opts := stackutil.DaemonOpts{LogFile: logFile, Env: r.env}
	seed := uint64(20261207)
	rnd := rand.New(rand.NewPCG(seed, seed))
	began := time.Now()
	kills, busyKills := 0, 0
	for kills < mtaCrashKills {
		before := r.Queued()
		d := stackutil.StartDaemon(t, bin, cfg, opts)
		if kills%2 == 1 {
			// Every other daemon lives until it has committed a batch:
			// kills that all land before the first commit would count
			// attempts of the same oldest batch until qscan quarantines it
			// as poison (max_attempts), as it should after a crash loop.
			stackutil.WaitUntil(time.Minute, func() bool { q := r.Queued(); return q < before || q == 0 || !d.Alive() })
			time.Sleep(time.Duration(rnd.IntN(101)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(20+rnd.IntN(381)) * time.Millisecond)
		}
		busy := r.Queued() > 0
		if !d.Alive() {
			t.Fatalf("qscan run exited by itself:\n%s", logTail(logFile))
		}
		d.Kill()
		kills++
		if busy {
			busyKills++
		}
	}
	d := stackutil.StartDaemon(t, bin, cfg, opts)
	// Up to its signal handler (a SIGTERM before it would end it at once).
	stackutil.WaitUntil(time.Minute, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "qscan starting") > kills || !d.Alive()
	})
	drained := stackutil.WaitUntil(5*time.Minute, func() bool { return len(r.incomingFiles()) == 0 })
	d.Shutdown(t)
	if !drained {
		f := r.incomingFiles()
		t.Fatalf("%s's incoming queue not drained: %d files left: %s\n%s", r.name, len(f), left(f), logTail(logFile))
	}
	drain := time.Since(began)
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := stackutil.WaitSink(r.s.SinkDir, n, 5*time.Minute); err != nil {
		t.Error(err)
	}
	time.Sleep(2 * time.Second) // let a duplicate arrive too
	got, _ := stackutil.ReadSink(r.s.SinkDir)
	checkDelivered(t, msgs, got)
	stackutil.WaitUntil(time.Minute, func() bool { return len(r.outgoingLeft()) == 0 })
	if f := r.outgoingLeft(); len(f) != 0 {
		t.Errorf("%s's outgoing queue holds %d files after delivery: %s", r.name, len(f), left(f))
	}
	entries, dupIDs, other := countQuarantine(filepath.Join(root, "quarantine"))
	if entries != infected || dupIDs != 0 || other != 0 {
		t.Errorf("quarantine: %d entries for %d infected messages, %d queue IDs with more than one, %d staged or incomplete dirs",
			entries, infected, dupIDs, other)
	}
	logb, _ := os.ReadFile(logFile)
	log := string(logb)
	t.Logf("%s: %d messages, %d kills (%d with mail queued), drained in %s; recovery: %d committed batches finished, %d undone",
		r.name, n, kills, busyKills, drain.Round(time.Millisecond),
		strings.Count(log, "recovery: finishing committed batch"), strings.Count(log, "recovery: undoing uncommitted batch"))
	if busyKills < kills/2 {
		t.Errorf("only %d of %d kills hit a non-empty queue; the test proves less than it should", busyKills, kills)
	}
}

// countQuarantine sums up a quarantine tree: complete entries (with
// metadata.json), queue IDs with more than one, other directories (staged
// or incomplete entries).
func countQuarantine(root string) (entries, dupIDs, other int) {
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	perID := map[string]int{}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "metadata.json")); err != nil || strings.HasPrefix(filepath.Base(d), ".") {
			other++
			continue
		}
		entries++
		id, _, _ := strings.Cut(filepath.Base(d), ".")
		if perID[id]++; perID[id] == 2 {
			dupIDs++
		}
	}
	return entries, dupIDs, other
}

// logTail returns the last lines of a log file, for a failure message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprint(err)
	}
	l := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(l[max(0, len(l)-30):], "\n")
}
