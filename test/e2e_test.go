//go:build e2e

package test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// submitAll sends messages through sendmail-in by SMTP.
func submitAll(t *testing.T, s stackutil.Stack, msgs map[string][]byte) {
	t.Helper()
	for id, raw := range msgs {
		if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
			t.Fatalf("submit %s: %v", id, err)
		}
	}
}

// waitQueued waits until sendmail-in has queued n messages.
func waitQueued(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(dir, "qf*"))
		if len(m) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sendmail-in did not queue %d messages", n)
}

// TestThroughRealSendmail: 200 generated messages (plain, 8-bit,
// multipart with attachments, long headers, dot lines) through sendmail-in,
// qscan and the outgoing sendmail to the sink; see passThrough.
func TestThroughRealSendmail(t *testing.T) {
	s := stack(t)
	msgs := map[string]*passMsg{}
	for i := 0; i < 200; i++ {
		gen := stackutil.Message("e2e", i, "pass", false)
		id, raw := gen.ID, gen.Raw
		msgs[id] = &passMsg{from: "generated", raw: raw}
	}
	passThrough(t, s, writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30}), msgs)
}

// TestCorpusThroughRealSendmail: every file of ../shared/corpus (1,161:
// real mail, MIME edge cases of other parsers' test suites, ClamAV test
// files) through sendmail-in, qscan with the real clamd and the outgoing
// sendmail to the sink, with content rules that allow everything: each
// clean message passes unchanged, each labelled virus arrives cleaned
// with its name. Skipped when the corpus is absent.
func TestCorpusThroughRealSendmail(t *testing.T) {
	msgs := loadCorpus(t)
	s := stackutil.Require(t, "sink", "sendmail", "clamd")
	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30, clamd: true, extra: allowAllConfig(t)})
	passThrough(t, s, cfg, msgs)
}

// TestPickupLatencyAndKick: with the daemon running, a message queued by
// sendmail-in is delivered to the sink through the kick, without a queue
// run of ours.
func TestDaemonKick(t *testing.T) {
	s := stack(t)
	clean(t, s)
	var logBuf bytes.Buffer
	d := stackutil.StartDaemon(t, stackutil.Binary(t), writeConfig(t, s, cfgOpts{maxMessages: 30}), stackutil.DaemonOpts{Log: &logBuf, Group: true})
	defer d.Shutdown(t)
	time.Sleep(300 * time.Millisecond)
	gen := stackutil.Message("e2e", 7, "kick", false)
	id, raw := gen.ID, gen.Raw
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := waitFor(s, id, 30*time.Second); err != nil {
		t.Fatalf("%v\nqscan log:\n%s", err, logBuf.String())
	}
}

// TestCrashExactlyOnce: qscan is killed with SIGKILL at random moments
// while it drains 500 messages, and restarted each time; every message
// arrives at the sink exactly once.
func TestCrashExactlyOnce(t *testing.T) {
	s := stack(t)
	clean(t, s)
	bin := stackutil.Binary(t)
	const n = 500
	msgs := map[string][]byte{}
	for i := 0; i < n; i++ {
		gen := stackutil.Message("e2e", i, "crash", false)
		id, raw := gen.ID, gen.Raw
		msgs[id] = raw
	}
	submitAll(t, s, msgs)
	waitQueued(t, s.Incoming, n)
	cfg := writeConfig(t, s, cfgOpts{maxMessages: 10})
	r := rand.New(rand.NewPCG(7, 7))
	var logBuf bytes.Buffer
	kills := 0
	for kills < 12 {
		d := stackutil.StartDaemon(t, bin, cfg, stackutil.DaemonOpts{Log: &logBuf, Group: true})
		time.Sleep(time.Duration(20+r.IntN(250)) * time.Millisecond)
		d.Kill()
		kills++
		if m, _ := filepath.Glob(filepath.Join(s.Incoming, "qf*")); len(m) == 0 {
			break
		}
	}
	if out, err := exec.Command(bin, "run", "--once", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("final qscan run --once: %v\n%s", err, out)
	}
	t.Logf("killed qscan %d times", kills)
	if kills < 10 {
		t.Errorf("only %d kills before the queue drained; the test proves less than it should", kills)
	}
	if m, _ := filepath.Glob(filepath.Join(s.Incoming, "*")); len(m) != 0 {
		t.Errorf("incoming queue not empty: %d files", len(m))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := waitAll(s, msgs, 180*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let any duplicate arrive too
	got, _ := stackutil.ReadSink(s.SinkDir)
	count := map[string]int{}
	for _, m := range got {
		count[stackutil.HeaderValue(m.Data, "Message-ID")]++
	}
	for id := range msgs {
		if count[id] != 1 {
			t.Errorf("%s arrived %d times", id, count[id])
		}
	}
	// Once sendmail has delivered everything, nothing of ours is left in
	// its queue: no df without its qf.
	for i := 0; i < 100; i++ {
		if m, _ := filepath.Glob(filepath.Join(s.Outgoing, "qf*")); len(m) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m, _ := filepath.Glob(filepath.Join(s.Outgoing, "[dq]f*")); len(m) != 0 {
		t.Errorf("outgoing queue holds %d files after delivery: %v", len(m), m[:min(len(m), 5)])
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.Outgoing, "tf*"))
	temps, _ := filepath.Glob(filepath.Join(s.Outgoing, ".qscan-tmp-*"))
	if len(leftovers)+len(temps) != 0 {
		t.Errorf("temporary files left in the outgoing queue: %v %v", leftovers, temps)
	}
}

// waitAll waits until every message of msgs (by Message-ID) is at the
// sink and returns the sink's messages.
func waitAll(s stackutil.Stack, msgs map[string][]byte, timeout time.Duration) ([]stackutil.SinkMsg, error) {
	deadline := time.Now().Add(timeout)
	for {
		got, _ := stackutil.ReadSink(s.SinkDir)
		missing := len(msgs)
		seen := map[string]bool{}
		for _, m := range got {
			id := stackutil.HeaderValue(m.Data, "Message-ID")
			if _, ok := msgs[id]; ok && !seen[id] {
				seen[id] = true
				missing--
			}
		}
		if missing == 0 {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%d of %d messages did not arrive within %s", missing, len(msgs), timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor waits until the sink holds the message with this Message-ID.
func waitFor(s stackutil.Stack, msgID string, timeout time.Duration) (stackutil.SinkMsg, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msgs, _ := stackutil.ReadSink(s.SinkDir)
		for _, m := range msgs {
			if stackutil.HeaderValue(m.Data, "Message-ID") == msgID {
				return m, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return stackutil.SinkMsg{}, fmt.Errorf("message %s did not arrive at the sink within %s", msgID, timeout)
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
