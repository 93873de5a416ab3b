//go:build reliability

package reliability

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

// TestCrash kills `qscan run` with SIGKILL at random moments (seeded,
// 20–400 ms apart) while it drains mail that came in by SMTP through
// sendmail-in, with the kick on, then lets a last daemon finish and runs
// the outgoing queue once more. Every Message-ID must reach the sink
// exactly once, infected ones (one in ten) cleaned, no queue file may be
// left over, and the quarantine must hold exactly one entry per infected
// message (no ID.2 from a retry, nothing staged or incomplete left).
func TestCrash(t *testing.T) {
	sc := relScale()
	s := requireStack(t, "sink", "sendmail")
	emptyStack(t, s)
	bin := stackutil.Binary(t)
	msgs := make([]stackutil.Msg, sc.crashMsgs)
	for i := range msgs {
		msgs[i] = stackutil.Message("rel", i, "crash", i%10 == 7)
	}
	sub := submitParallel(s.SMTPIn, msgs, 4)
	if sub.Failures > 0 {
		t.Fatalf("%d messages could not be submitted: %v", sub.Failures, sub.LastErr)
	}
	if !stackutil.WaitUntil(2*time.Minute, func() bool { return count(s.Incoming, "qf*") >= len(msgs) }) {
		t.Fatalf("sendmail-in queued %d of %d messages", count(s.Incoming, "qf*"), len(msgs))
	}
	quar := filepath.Join(t.TempDir(), "quarantine")
	cfgPath := writeConfig(t, cfg{incoming: s.Incoming, outgoing: s.Outgoing, quarantine: quar, kick: true, sendmailCF: s.CF, maxMessages: 5})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	seed := uint64(20261124)
	r := rand.New(rand.NewPCG(seed, seed))
	start := time.Now()
	kills, busyKills := 0, 0
	for kills < sc.crashKills {
		d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
		time.Sleep(time.Duration(20+r.IntN(381)) * time.Millisecond)
		busy := count(s.Incoming, "qf*") > 0
		if !d.Alive() {
			t.Fatalf("qscan run exited by itself; log %s", logFile)
		}
		d.Kill()
		kills++
		if busy {
			busyKills++
		}
	}
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	drained := stackutil.WaitUntil(10*time.Minute, func() bool { return count(s.Incoming, "[qd]f*") == 0 })
	d.Shutdown(t)
	drainTime := time.Since(start)
	if !drained {
		t.Errorf("incoming queue not drained: %d files left", count(s.Incoming, "*"))
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	res := checkSinkOnce(t, s, msgs, 5*time.Minute)
	leftovers := checkOutgoingEmpty(t, s)
	entries := stackutil.ReadLog(logFile)
	finished := len(stackutil.GrepLog(entries, "recovery: finishing committed batch"))
	undone := len(stackutil.GrepLog(entries, "recovery: undoing uncommitted batch"))
	qc := countQuarantine(quar)
	infected := 0
	for _, m := range msgs {
		if m.Infected {
			infected++
		}
	}
	if qc.entries != infected || qc.dupIDs != 0 || qc.other != 0 {
		t.Errorf("quarantine: %d entries for %d infected messages, %d queue ids with more than one entry, %d staged or incomplete dirs left",
			qc.entries, infected, qc.dupIDs, qc.other)
	}
	var tb table
	tb.head = []string{"messages", "kills", "kills with mail queued", "lost", "duplicated", "infected delivered with EICAR", "left in incoming", "left in outgoing", "recovered committed / undone batches",
		"quarantine entries / infected", "ids with >1 entry", "drain time"}
	tb.add(len(msgs), kills, busyKills, res.lost, res.dups, res.unscanned, count(s.Incoming, "*"), leftovers,
		fmt.Sprintf("%d / %d", finished, undone), fmt.Sprintf("%d / %d", qc.entries, infected), qc.dupIDs, drainTime.Round(time.Second))
	record(t, 10, fmt.Sprintf("SIGKILL of `qscan run` (kick on, batches of 5), seed %d, intervals 20–400 ms; SMTP submission %d msgs in %s (%d retries). Log: %s.",
		seed, len(msgs), sub.Elapsed.Round(time.Millisecond), sub.Retries, logFile), tb)
	if busyKills < sc.crashKills/2 {
		t.Errorf("only %d of %d kills hit a non-empty queue; the test proves less than it should", busyKills, kills)
	}
}

// quarantineCount sums up a quarantine tree: complete entries (with
// metadata.json), queue ids with more than one of them, and the other
// directories (staged or incomplete entries).
type quarantineCount struct{ entries, dupIDs, other int }

func countQuarantine(root string) quarantineCount {
	var c quarantineCount
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	perID := map[string]int{}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "metadata.json")); err != nil || strings.HasPrefix(filepath.Base(d), ".") {
			c.other++
			continue
		}
		c.entries++
		id, _, _ := strings.Cut(filepath.Base(d), ".")
		if perID[id]++; perID[id] == 2 {
			c.dupIDs++
		}
	}
	return c
}

// sinkCheck counts what reached the sink against what was sent.
type sinkCheck struct{ lost, dups, unscanned, extra int }

// checkSinkOnce waits for every message at the sink, then checks each
// arrived exactly once and that infected ones carry no EICAR.
func checkSinkOnce(t *testing.T, s stackutil.Stack, msgs []stackutil.Msg, timeout time.Duration) sinkCheck {
	t.Helper()
	got, err := stackutil.WaitSink(s.SinkDir, len(msgs), timeout)
	if err != nil {
		t.Error(err)
	}
	time.Sleep(3 * time.Second) // let a duplicate arrive too
	got, _ = stackutil.ReadSink(s.SinkDir)
	seen := map[string]int{}
	var res sinkCheck
	byID := map[string]stackutil.Msg{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	for _, g := range got {
		id := stackutil.HeaderValue(g.Data, "Message-ID")
		m, ok := byID[id]
		if !ok {
			res.extra++
			continue
		}
		seen[id]++
		if hasEICAR(g.Data) {
			res.unscanned++
			t.Errorf("%s delivered with EICAR inside", id)
		}
		if !m.Infected && string(stackutil.BodyOf(g.Data)) != string(stackutil.BodyOf(m.Raw)) {
			t.Errorf("%s: body changed on the way", id)
		}
	}
	for _, m := range msgs {
		switch n := seen[m.ID]; {
		case n == 0:
			res.lost++
			if res.lost <= 5 {
				t.Errorf("%s never arrived", m.ID)
			}
		case n > 1:
			res.dups += n - 1
			t.Errorf("%s arrived %d times", m.ID, n)
		}
	}
	return res
}

// checkOutgoingEmpty waits for sendmail to empty the outgoing queue and
// reports what is left: df without qf, tf, qscan temp files.
func checkOutgoingEmpty(t *testing.T, s stackutil.Stack) int {
	t.Helper()
	stackutil.WaitUntil(2*time.Minute, func() bool { return count(s.Outgoing, "qf*") == 0 })
	var left []string
	for _, pat := range []string{"qf*", "df*", "tf*", "xf*", ".qscan-tmp-*", ".*tmp*"} {
		m, _ := filepath.Glob(filepath.Join(s.Outgoing, pat))
		left = append(left, m...)
	}
	if len(left) > 0 {
		t.Errorf("outgoing queue holds %d files after delivery: %s", len(left), strings.Join(left[:min(5, len(left))], " "))
	}
	return len(left)
}
