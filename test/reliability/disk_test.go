//go:build reliability

package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/test/stackutil"
)

// TestDiskFull puts the incoming queue, the outgoing queue and the
// quarantine on an 8 MB tmpfs that fills up in the middle of a batch. No
// message may be lost or truncated: every outgoing qf parses and has its
// complete df, what did not fit stays in the incoming queue, the log says
// why, and once a filler file is deleted the same daemon finishes the rest.
func TestDiskFull(t *testing.T) {
	sc := relScale()
	s := requireStack(t, "sendmail") // for sendmail -bp on the result
	bin := stackutil.Binary(t)
	fs := mountTmpfs(t, "8m")
	in, out, quar := filepath.Join(fs, "mqueue.in"), filepath.Join(fs, "mqueue"), filepath.Join(fs, "quarantine")
	for _, d := range []string{in, out, quar} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msgs := make([]stackutil.Msg, sc.diskMsgs)
	for i := range msgs {
		msgs[i] = stackutil.Message("rel", i, "disk", i%3 == 1)
	}
	enqueue(t, bin, in, msgs)
	const free = 320 << 10
	filler := fillDisk(t, fs, free)
	cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, quarantine: quar, maxMessages: 10, postmaster: "postmaster@example.test"})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer func() {
		if d.Alive() {
			d.Shutdown(t)
		}
	}()
	// Wait for the disk to fill and the daemon to settle (nothing moves).
	stackutil.WaitUntil(60*time.Second, func() bool { return len(stackutil.GrepLog(stackutil.ReadLog(logFile), "no space left")) > 0 })
	// Stay full for a while: retries (1–2 s apart) must not use up the
	// processing attempts of messages that did nothing wrong.
	time.Sleep(sc.outage + 8*time.Second)
	settle(in, out, 3*time.Second, 60*time.Second)
	full := checkQueues(t, msgs, in, out)
	enospc := stackutil.GrepLog(stackutil.ReadLog(logFile), "no space left")
	if len(enospc) == 0 {
		t.Errorf("no log line says the disk is full; log %s", logFile)
	}
	if full.out == len(msgs) {
		t.Errorf("all %d messages fitted: the disk never filled up mid-run", len(msgs))
	}
	if !d.Alive() {
		t.Fatalf("qscan run exited on a full disk; log %s", logFile)
	}
	freed := time.Now()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	recovered := stackutil.WaitUntil(2*time.Minute, func() bool { return count(in, "[qd]f*") == 0 })
	recovery := time.Since(freed)
	if !recovered {
		t.Errorf("incoming still holds %d files %s after space was freed, without a restart", count(in, "*"), recovery.Round(time.Second))
	}
	d.Shutdown(t)
	final := checkQueues(t, msgs, in, out)
	if final.out != len(msgs) {
		t.Errorf("%d of %d messages in the outgoing queue after recovery", final.out, len(msgs))
	}
	bp, _ := exec.Command("/usr/sbin/sendmail", "-C", s.CF, "-bp", "-OQueueDirectory="+out).CombinedOutput()
	if want := fmt.Sprintf("Total requests: %d", count(out, "qf*")); !strings.Contains(string(bp), want) {
		t.Errorf("sendmail -bp does not list %q:\n%s", want, lastLines(string(bp), 5))
	}
	entries := stackutil.ReadLog(logFile)
	poison := len(stackutil.GrepLog(entries, "could not be processed in"))
	if poison > 0 {
		t.Errorf("%d messages were declared poison (quarantined whole) because the disk was full", poison)
	}
	qdirs := quarantineDirs(quar)
	first := "(none)"
	if len(enospc) > 0 {
		first = enospc[0]
	}
	var tb table
	tb.head = []string{"phase", "in outgoing", "in incoming", "lost", "quarantined whole instead of delivered", "truncated / bad qf", "in both queues"}
	tb.add("disk full", full.out, full.in, full.lost, full.quarantined, full.bad, full.both)
	tb.add(fmt.Sprintf("after freeing (drained %s later, no restart)", recovery.Round(100*time.Millisecond)), final.out, final.in, final.lost, final.quarantined, final.bad, final.both)
	var qt table
	qt.head = []string{"highest attempt count logged", "declared poison", "messages with >1 complete quarantine dir", "empty quarantine dirs left"}
	qt.add(maxAttempt(entries), poison, qdirs.dupMsgs, qdirs.empty)
	record(t, 20, fmt.Sprintf("tmpfs 8 MB holding mqueue.in, mqueue and quarantine; %d messages (every third infected: rebuilt df + quarantine copies) "+
		"put in with `qscan enqueue`, the rest of the disk filled but %d KB, kept full for %s. %d log lines mention the full disk; the first:\n\n    %s\n\nLog: %s.",
		len(msgs), free>>10, sc.outage+8*time.Second, len(enospc), first, logFile), tb, qt)
}

// qdirStats sums up the quarantine tree.
type qdirStats struct{ dupMsgs, empty int }

// quarantineDirs counts empty entry dirs and queue IDs with more than one
// complete entry (a held message quarantined again on each retry).
func quarantineDirs(root string) qdirStats {
	var st qdirStats
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	complete := map[string]int{}
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		if len(ents) == 0 {
			st.empty++
			continue
		}
		id, _, _ := strings.Cut(filepath.Base(d), ".")
		complete[id]++
	}
	for _, n := range complete {
		if n > 1 {
			st.dupMsgs++
		}
	}
	return st
}

// maxAttempt returns the highest "attempt" field in the log.
func maxAttempt(entries []stackutil.LogEntry) int {
	m := 0
	for _, e := range entries {
		m = max(m, int(e.Num("attempt")))
	}
	return m
}

// mountTmpfs mounts a tmpfs of the given size on a fresh directory and
// unmounts it when the test ends.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// enqueue writes msgs into the queue dir with `qscan enqueue`.
func enqueue(t *testing.T, bin, dir string, msgs []stackutil.Msg) {
	t.Helper()
	src := t.TempDir()
	for i, m := range msgs {
		p := filepath.Join(src, fmt.Sprintf("%05d.eml", i))
		if err := os.WriteFile(p, m.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
		// One call per message: each gets its own recipient and ID.
		if out, err := exec.Command(bin, "enqueue", "-q", dir, "-f", "sender@example.org", "-r", m.Rcpt, p).CombinedOutput(); err != nil {
			t.Fatalf("qscan enqueue: %v\n%s", err, out)
		}
	}
}

// fillDisk fills the filesystem of dir but free bytes with a filler file
// and returns its path.
func fillDisk(t *testing.T, dir string, free int64) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{'F'}, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(max(n-free, 0)); err != nil {
		t.Fatal(err)
	}
	return p
}

// settle waits until the file counts of the queues stop changing for
// quiet, at most timeout.
func settle(in, out string, quiet, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	last, since := "", time.Now()
	for time.Now().Before(deadline) {
		cur := fmt.Sprint(count(in, "*"), count(out, "*"))
		if cur != last {
			last, since = cur, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// queueState counts each test message where it is.
type queueState struct{ out, in, lost, quarantined, bad, both int }

// checkQueues finds every test message in the outgoing queue (qf parsed,
// df complete) or the incoming queue (qf and df as enqueued).
func checkQueues(t *testing.T, msgs []stackutil.Msg, in, out string) queueState {
	t.Helper()
	outIDs, bad := outgoingMessages(t, out)
	inIDs, badIn := incomingMessages(t, in)
	quarantined := quarantinedIDs(filepath.Join(filepath.Dir(in), "quarantine"))
	st := queueState{bad: bad + badIn}
	for _, m := range msgs {
		df, isOut := outIDs[m.ID]
		_, isIn := inIDs[m.ID]
		switch {
		case isOut && isIn:
			st.both++
			t.Errorf("%s is in both queues", m.ID)
		case isOut:
			st.out++
			if !completeDf(m, df) {
				st.bad++
				t.Errorf("%s: outgoing df incomplete or unscanned (%d bytes)", m.ID, len(df))
			}
		case isIn:
			st.in++
		case quarantined[m.ID]:
			st.quarantined++
			t.Errorf("%s was quarantined whole instead of delivered", m.ID)
		default:
			st.lost++
			t.Errorf("%s is in neither queue nor the quarantine", m.ID)
		}
	}
	return st
}

// quarantinedIDs returns the Message-IDs of whole messages in the
// quarantine.
func quarantinedIDs(root string) map[string]bool {
	ids := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(root, "*", "*", "message.eml"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			ids[stackutil.HeaderValue(data, "Message-ID")] = true
		}
	}
	return ids
}

// completeDf checks an outgoing df against the message sent: a clean one
// byte for byte, a cleaned one closed, without EICAR, other parts intact.
func completeDf(m stackutil.Msg, df []byte) bool {
	if !m.Infected {
		return bytes.Equal(df, stackutil.BodyOf(m.Raw))
	}
	n := bytes.Index(stackutil.BodyOf(m.Raw), []byte("Content-Transfer-Encoding: base64\n\n"))
	keep := stackutil.BodyOf(m.Raw)[n:]
	keep = keep[:bytes.Index(keep, []byte("\n--"))]
	return !hasEICAR(df) && bytes.Contains(df, keep) && bytes.HasSuffix(bytes.TrimRight(df, "\n"), []byte("--"))
}

// outgoingMessages maps Message-ID to df bytes for each qf of dir; qf
// files that do not parse or lack their df are counted as bad.
func outgoingMessages(t *testing.T, dir string) (map[string][]byte, int) {
	t.Helper()
	qfs, _ := filepath.Glob(filepath.Join(dir, "qf*"))
	ids := map[string][]byte{}
	bad := 0
	for _, qfPath := range qfs {
		q, df, err := readEntry(qfPath)
		if err != nil {
			bad++
			t.Errorf("outgoing %s: %v", filepath.Base(qfPath), err)
			continue
		}
		mid, _ := q.Header("Message-ID")
		if _, dup := ids[strings.TrimSpace(mid)]; dup && mid != "" {
			t.Errorf("outgoing: %s twice", mid)
		}
		ids[strings.TrimSpace(mid)] = df
	}
	return ids, bad
}

// incomingMessages maps Message-ID to df bytes in the incoming queue.
func incomingMessages(t *testing.T, dir string) (map[string][]byte, int) {
	return outgoingMessages(t, dir)
}

// readEntry parses qf<ID> and reads its df<ID>.
func readEntry(qfPath string) (*sendmail.Qf, []byte, error) {
	f, err := os.Open(qfPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	q, err := sendmail.ParseQf(f, sendmail.Limits{})
	if err != nil {
		return nil, nil, err
	}
	dfPath := filepath.Join(filepath.Dir(qfPath), "df"+strings.TrimPrefix(filepath.Base(qfPath), "qf"))
	df, err := os.ReadFile(dfPath)
	if err != nil {
		return nil, nil, fmt.Errorf("df: %w", err)
	}
	return q, df, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
