package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunOnceReportsWhatIsLeft: `run --once` exits 75 (EX_TEMPFAIL) and
// names what it left in the incoming queue, here a qf whose df has not
// been written yet (too young to be set aside), not only what it held.
func TestRunOnceReportsWhatIsLeft(t *testing.T) {
	root, cfg := demo(t, "")
	in := filepath.Join(root, "in")
	if out, code := qscan(t, "enqueue", "-q", in, "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml"); code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	qfs, _ := filepath.Glob(filepath.Join(in, "qf*"))
	qf, _ := os.ReadFile(qfs[0])
	lone := "6AM876nc009999"
	if err := os.WriteFile(filepath.Join(in, "qf"+lone), qf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := qscan(t, "run", "--once", "-c", cfg)
	if code != exitTempFail {
		t.Errorf("run --once = %d, want %d:\n%s", code, exitTempFail, out)
	}
	if !strings.Contains(out, "1 messages left in the incoming queues") || !strings.Contains(out, lone) {
		t.Errorf("run --once output does not name what it left:\n%s", out)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "out", "qf*")); len(m) != 1 {
		t.Errorf("outgoing = %v, want the good message delivered", m)
	}
}
