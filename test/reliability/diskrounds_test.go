//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestDiskFullRounds puts the queues, the quarantine and qscan's work
// directory (journal, attempts store) on an 8 MB tmpfs that is full, and
// starts qscan on it round after round, more rounds than max_attempts, as
// an init system or the cron check restarts a daemon that stopped on a
// journal it cannot write (or stops it after a while). Then space
// returns: every message must be delivered, none taken for poison
// because of the full disk (issue 16.10: 59 of 120 messages, 20 of them
// clean, were quarantined as poison after eight rounds).
func TestDiskFullRounds(t *testing.T) {
	sc := relScale()
	requireRoot(t)
	bin := stackutil.Binary(t)
	fs := mountTmpfs(t, "8m")
	in, out, quar, work := filepath.Join(fs, "mqueue.in"), filepath.Join(fs, "mqueue"), filepath.Join(fs, "quarantine"), filepath.Join(fs, "work")
	for _, d := range []string{in, out, quar, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msgs := make([]stackutil.Msg, sc.diskMsgs)
	for i := range msgs {
		msgs[i] = stackutil.Message("rel", i, "rounds", i%3 == 1)
	}
	enqueue(t, bin, in, msgs)
	const free, maxAttempts = 320 << 10, 3
	filler := fillDisk(t, fs, free)
	cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, quarantine: quar, workDir: work, maxMessages: 10,
		maxAttempts: maxAttempts, postmaster: "postmaster@example.test"})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	rounds, exited := maxAttempts+3, 0
	for r := range rounds {
		before := len(stackutil.GrepLog(stackutil.ReadLog(logFile), "no space left"))
		d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
		stackutil.WaitUntil(30*time.Second, func() bool {
			return !d.Alive() || len(stackutil.GrepLog(stackutil.ReadLog(logFile), "no space left")) > before
		})
		// Retries (1–2 s apart) while the disk stays full.
		stackutil.WaitUntil(4*time.Second, func() bool { return !d.Alive() })
		if d.Alive() {
			d.Shutdown(t)
		} else {
			exited++
		}
		if r == 0 && count(out, "qf*") == len(msgs) {
			t.Fatalf("all %d messages fitted: the disk never filled up", len(msgs))
		}
	}
	full := checkQueues(t, msgs, in, out)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	if !stackutil.WaitUntil(2*time.Minute, func() bool { return count(in, "[qd]f*") == 0 }) {
		t.Errorf("incoming still holds %d files after space was freed", count(in, "*"))
	}
	d.Shutdown(t)
	final := checkQueues(t, msgs, in, out)
	if final.out != len(msgs) {
		t.Errorf("%d of %d messages in the outgoing queue after space returned", final.out, len(msgs))
	}
	entries := stackutil.ReadLog(logFile)
	poison := len(stackutil.GrepLog(entries, "could not be processed in"))
	if poison > 0 {
		t.Errorf("%d messages were declared poison (quarantined whole) because the disk was full", poison)
	}
	var tb table
	tb.head = []string{"phase", "in outgoing", "in incoming", "lost", "quarantined whole instead of delivered", "truncated / bad qf", "in both queues"}
	tb.add(fmt.Sprintf("after %d full-disk rounds", rounds), full.out, full.in, full.lost, full.quarantined, full.bad, full.both)
	tb.add("after freeing space", final.out, final.in, final.lost, final.quarantined, final.bad, final.both)
	var qt table
	qt.head = []string{"rounds", "rounds the daemon stopped by itself", "log lines on the full disk", "highest attempt count logged", "max_attempts", "declared poison"}
	qt.add(rounds, exited, len(stackutil.GrepLog(entries, "no space left")), maxAttempt(entries), maxAttempts, poison)
	record(t, 21, fmt.Sprintf("tmpfs 8 MB holding mqueue.in, mqueue, the quarantine and the work dir (journal, attempts store); %d messages "+
		"(every third infected), the rest of the disk filled but %d KB. qscan is started %d times on the full disk (each run stopped once it "+
		"has met the full disk and retried for 4 s, unless it stopped by itself), then the filler is deleted and qscan started once more. Log: %s.",
		len(msgs), free>>10, rounds, logFile), tb, qt)
}
