//go:build reliability

package reliability

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestQueueFiles runs the queue-file cases of bad-inputs.md through the
// daemon: BI-38 (a truncated qf, a qf without its df, a df without its qf,
// an empty qf beside good mail) and BI-39 (a message whose processing is
// cut short by a crash again and again is quarantined whole after
// max_attempts, not retried forever).
func TestQueueFiles(t *testing.T) {
	bin := stackutil.Binary(t)
	var tb table
	tb.head = []string{"case", "outcome", "expected"}
	t.Run("BI-38", func(t *testing.T) {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		os.Mkdir(in, 0o700)
		os.Mkdir(out, 0o700)
		msgs := make([]stackutil.Msg, 6)
		for i := range msgs {
			msgs[i] = stackutil.Message("rel", i, "qfile", false)
		}
		enqueue(t, bin, in, msgs)
		qfs, _ := filepath.Glob(filepath.Join(in, "qf*"))
		if len(qfs) != len(msgs) {
			t.Fatalf("%d qf files, want %d", len(qfs), len(msgs))
		}
		// Order the qf files as msgs: glob order is queue-ID order.
		byID := map[string]string{}
		for _, p := range qfs {
			q, _, err := readEntry(p)
			if err != nil {
				t.Fatal(err)
			}
			mid, _ := q.Header("Message-ID")
			byID[strings.TrimSpace(mid)] = p
		}
		for i, m := range msgs {
			qfs[i] = byID[m.ID]
		}
		df := func(qf string) string { return filepath.Join(in, "df"+strings.TrimPrefix(filepath.Base(qf), "qf")) }
		data, _ := os.ReadFile(qfs[0])
		os.WriteFile(qfs[0], data[:len(data)/2], 0o600) // truncated qf
		os.Remove(df(qfs[1]))                           // qf without df
		os.Remove(qfs[2])                               // df without qf
		os.Truncate(qfs[3], 0)                          // empty qf
		cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, maxMessages: 30})
		cmd := exec.Command(bin, "run", "--once", "-c", cfgPath)
		outb, err := cmd.CombinedOutput()
		// Exit 75: messages left in the incoming queue (the young qf
		// without its df and the empty qf wait for set_aside_after), which
		// --once says in a log line.
		var ee *exec.ExitError
		left := errors.As(err, &ee) && ee.ExitCode() == 75 && strings.Contains(string(outb), "left in the incoming queues")
		if (err != nil && !left) || strings.Contains(string(outb), "panic") {
			t.Errorf("qscan run --once: %v\n%s", err, lastLines(string(outb), 10))
		}
		got, bad := outgoingMessages(t, out)
		for _, m := range msgs[4:] {
			if d, ok := got[m.ID]; !ok || string(d) != string(stackutil.BodyOf(m.Raw)) {
				t.Errorf("good message %s not delivered intact", m.ID)
			}
		}
		if len(got) != 2 || bad != 0 {
			t.Errorf("outgoing holds %d messages (%d bad), want the 2 good ones", len(got), bad)
		}
		setAside := strings.Count(string(outb), "action=set-aside")
		tb.add("BI-38 truncated qf, qf without df, df without qf, empty qf + 2 good",
			fmt.Sprintf("%d delivered intact, %d bad in outgoing, %d set aside, incoming left: %s", len(got), bad, setAside, strings.Join(names(in), " ")),
			"2 delivered, nothing partial goes out, no crash")
	})
	t.Run("BI-39", func(t *testing.T) {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		os.Mkdir(in, 0o700)
		os.Mkdir(out, 0o700)
		fake := newFakeClamd(t, "")
		fake.hang.Store(true)
		m := stackutil.Message("rel", 1, "poison", false)
		enqueue(t, bin, in, []stackutil.Msg{m})
		const attempts = 3
		cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, maxAttempts: attempts, clamd: fake.addr(), clamdTimeout: "60s",
			postmaster: "postmaster@example.test"})
		logFile := logPath(t, "qscan")
		os.Remove(logFile)
		for i := 0; i < attempts; i++ {
			d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
			// The scan hangs: kill qscan while the message is in hand.
			stackutil.WaitUntil(10*time.Second, func() bool { return fake.conns.Load() > int64(i) })
			time.Sleep(300 * time.Millisecond)
			d.Kill()
		}
		d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
		done := stackutil.WaitUntil(30*time.Second, func() bool { return count(in, "qf*") == 0 })
		d.Shutdown(t)
		poison := stackutil.GrepLog(stackutil.ReadLog(logFile), fmt.Sprintf("could not be processed in %d attempts", attempts))
		quarantined := quarantinedIDs(filepath.Join(filepath.Dir(cfgPath), "quarantine"))[m.ID]
		if !done || len(poison) == 0 || !quarantined {
			t.Errorf("after %d crashes: incoming drained %t, poison log lines %d, quarantined %t; log %s", attempts, done, len(poison), quarantined, logFile)
		}
		if got, _ := outgoingMessages(t, out); got[m.ID] != nil {
			t.Errorf("the poison message was delivered")
		}
		tb.add(fmt.Sprintf("BI-39 scan cut short by SIGKILL %d times (max_attempts = %d)", attempts, attempts),
			fmt.Sprintf("incoming drained %t, quarantined whole %t, %d log lines", done, quarantined, len(poison)),
			"quarantined whole on the next start, postmaster told")
	})
	record(t, 45, "Queue-file cases through `qscan run` (built-in engine; BI-39 with a fake clamd that never answers, so the crash always hits the message in hand).", tb)
}

func names(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
