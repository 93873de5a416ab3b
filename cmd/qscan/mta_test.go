package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/exim"
)

// TestRunOnceExim: with [queue] mta = "exim", a message `qscan enqueue
// --mta exim` wrote into an Exim spool goes through `run --once` into the
// outgoing spool as <ID>-H and <ID>-D (body unchanged, qscan's header in
// the -H), and leaves the incoming spool empty; lint accepts the layout.
func TestRunOnceExim(t *testing.T) {
	root, cfg := demo(t, "")
	for _, d := range []string{"in/input", "out/input"} {
		os.MkdirAll(filepath.Join(root, d), 0o750)
	}
	writeCfg(t, cfg, "")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(text, []byte("[queue]\n"), []byte("[queue]\nmta = \"exim\"\n"), 1), 0o600)
	out, code := qscan(t, "enqueue", "--mta", "exim", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml")
	if code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	id := strings.TrimSpace(out)
	if !exim.ValidID(id) {
		t.Fatalf("enqueue printed %q, want an Exim ID", id)
	}
	if out, code := qscan(t, "lint", "--no-engines", "-c", cfg); code != 0 {
		t.Errorf("lint = %d:\n%s", code, out)
	}
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once = %d:\n%s", code, out)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "in", "input", "*")); len(left) != 0 {
		t.Errorf("incoming spool keeps %v", left)
	}
	h, err := os.ReadFile(filepath.Join(root, "out", "input", id+"-H"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(h, []byte("X-QScan: Found to be clean")) && !bytes.Contains(h, []byte("-QScan: Found to be clean")) {
		t.Errorf("-H has no QScan header:\n%s", h)
	}
	d, _ := os.ReadFile(filepath.Join(root, "out", "input", id+"-D"))
	orig, _ := os.ReadFile("../../testdata/eml/plain.eml")
	if !bytes.HasSuffix(orig, d[len(id)+3:]) {
		t.Errorf("-D body differs from the file's body:\n%q", d)
	}
}

// TestLintEximLayout: an Exim queue without input/ is named by lint.
func TestLintEximLayout(t *testing.T) {
	_, cfg := demo(t, "")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(text, []byte("[queue]\n"), []byte("[queue]\nmta = \"exim\"\n"), 1), 0o600)
	out, code := qscan(t, "lint", "--no-engines", "-c", cfg)
	if code == 0 || !strings.Contains(out, "has no input/ directory") {
		t.Errorf("lint = %d, want the missing input/ named:\n%s", code, out)
	}
}
