//go:build e2e

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestNestedOutgoingRealSendmail: with qf/ df/ xf/ in the outgoing queue,
// qscan writes qf files into qf/ and df files into df/, where the real
// sendmail lists (-bp) and delivers them; `qscan lint` accepts the layout.
func TestNestedOutgoingRealSendmail(t *testing.T) {
	s := stack(t)
	clean(t, s)
	bin := stackutil.Binary(t)
	// Beside the stack's queues: the same filesystem, so df files are hard
	// links.
	nested := filepath.Join(filepath.Dir(s.Outgoing), fmt.Sprintf("mqueue-nested-%d", os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(nested) })
	for _, d := range []string{"qf", "df", "xf"} {
		if err := os.MkdirAll(filepath.Join(nested, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msgs := map[string][]byte{}
	for i := range 5 {
		gen := stackutil.Message("e2e", i, "nested", false)
		id, raw := gen.ID, gen.Raw
		msgs[id] = raw
	}
	submitAll(t, s, msgs)
	waitQueued(t, s.Incoming, len(msgs))

	s2 := s
	s2.Outgoing = nested
	cfg := writeConfig(t, s2, cfgOpts{noKick: true, maxMessages: 30})
	// --no-engines: the layout is tested here (the test config leaves the
	// spam engines at their default, spamd on 783, which the stack has not).
	if out, err := exec.Command(bin, "lint", "--no-engines", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("qscan lint of a nested outgoing queue: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "run", "--once", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	top, _ := filepath.Glob(filepath.Join(nested, "[qdt]f?*"))
	qfs, _ := filepath.Glob(filepath.Join(nested, "qf", "qf*"))
	dfs, _ := filepath.Glob(filepath.Join(nested, "df", "df*"))
	if len(top) != 0 || len(qfs) != len(msgs) || len(dfs) != len(msgs) {
		t.Fatalf("outgoing: %d files at the top, %d in qf/, %d in df/; want 0, %d, %d", len(top), len(qfs), len(dfs), len(msgs), len(msgs))
	}
	out, err := exec.Command("/usr/sbin/sendmail", "-C", s.CF, "-bp", "-OQueueDirectory="+nested).CombinedOutput()
	if err != nil {
		t.Fatalf("sendmail -bp: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("Total requests: %d", len(msgs))) || strings.Contains(string(out), "cannot open") {
		t.Errorf("sendmail -bp does not list %d requests:\n%s", len(msgs), out)
	}
	// -qf: one queue run in the foreground.
	if out, err := exec.Command("/usr/sbin/sendmail", "-C", s.CF, "-qf", "-OQueueDirectory="+nested).CombinedOutput(); err != nil {
		t.Fatalf("sendmail -qf: %v\n%s", err, out)
	}
	if _, err := waitAll(s, msgs, 120*time.Second); err != nil {
		t.Fatal(err)
	}
}
