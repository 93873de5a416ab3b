//go:build e2e

package test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestClamdPoolOneKilled: the shipped configuration with two clamd servers
// pooled ([virus.clamd] servers); one is killed (SIGKILL) while qscan
// drains mail submitted over SMTP. Nothing is held, nothing goes out
// unscanned: every message reaches the sink, every infected one cleaned,
// and the log says the dead server was taken out of the pool.
func TestClamdPoolOneKilled(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "clamd")
	clean(t, s)
	// The second clamd: the clamd of a stack of its own (its own state
	// directory and ports).
	off, _ := strconv.Atoi(s.Ports)
	s2 := stackutil.Stack{Dir: s.Dir + "-pool2", Ports: strconv.Itoa(off + 17)}
	if err := s2.Start("clamd"); err != nil {
		t.Fatal(err)
	}
	defer s2.Stop("clamd")
	sock2 := filepath.Join(s2.Dir, "run", "clamd.sock")

	root := t.TempDir()
	text, err := stackutil.ShippedFor(s, root)
	if err != nil {
		t.Fatal(err)
	}
	text, err = stackutil.ReplaceKeys(text, map[string]string{
		"virus.scanners":      `["clamd"]`,
		"virus.clamd.servers": "[" + stackutil.Quote(sock2) + ", " + stackutil.Quote(s.ClamdSocket) + "]",
		"spam.engines":        `[]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}

	const n = 60
	var msgs [][]byte
	infected := map[string]bool{}
	for i := 0; i < n; i++ {
		m := stackutil.Message("pool", i, "clamd-pool", i%5 == 0)
		msgs = append(msgs, m.Raw)
		infected[m.ID] = m.Infected
	}
	var logBuf bytes.Buffer
	d := stackutil.StartDaemon(t, stackutil.Binary(t), cfg, stackutil.DaemonOpts{Log: &logBuf, Group: true})
	defer d.Shutdown(t)
	// The first half, then the kill, then the rest.
	for _, err := range stackutil.SubmitAll(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, msgs[:n/2]) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The shipped configuration does not kick: what qscan wrote waits in
	// the outgoing queue, delivered by the flush below.
	waitQueued(t, s.Outgoing, n/4)
	pid, err := os.ReadFile(filepath.Join(s2.Dir, "run", "clamd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		t.Fatalf("kill clamd %d: %v", p, err)
	}
	for _, err := range stackutil.SubmitAll(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, msgs[n/2:]) {
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		in, _ := filepath.Glob(filepath.Join(s.Incoming, "qf*"))
		out, _ := filepath.Glob(filepath.Join(s.Outgoing, "qf*"))
		if len(in) == 0 && len(out) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes %d messages still incoming, %d out\n%s", len(in), len(out), logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := stackutil.WaitSink(s.SinkDir, n, 3*time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, logBuf.String())
	}
	seen := map[string]int{}
	for _, m := range got {
		id := stackutil.HeaderValue(m.Data, "Message-ID")
		if _, ours := infected[id]; !ours {
			continue // a postmaster report
		}
		seen[id]++
		if infected[id] && bytes.Contains(m.Data, []byte("EICAR-STANDARD")) {
			t.Errorf("%s delivered with its virus", id)
		}
		if v := stackutil.HeaderValue(m.Data, "X-yoursite-QScan"); infected[id] != (v == "Found to be infected") {
			t.Errorf("%s: X-yoursite-QScan = %q (infected %v)", id, v, infected[id])
		}
	}
	for id := range infected {
		if seen[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, seen[id])
		}
	}
	log := logBuf.String()
	if strings.Contains(log, `"action":"held"`) || strings.Contains(log, "action=held") {
		t.Errorf("a message was held although one clamd was up:\n%s", log)
	}
	if !strings.Contains(log, "taken out of the pool") {
		t.Errorf("no log line for the killed server taken out of the pool:\n%s", log)
	}
}
