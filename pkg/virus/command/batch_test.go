package command

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countingClamscan writes a clamscan look-alike: each run appends a line
// to the file count, and every file under the scanned directory holding
// "EICAR" is reported FOUND, with exit 1 then, as clamscan does.
func countingClamscan(t *testing.T) (path, count string) {
	t.Helper()
	dir := t.TempDir()
	path, count = filepath.Join(dir, "clamscan"), filepath.Join(dir, "count")
	script := `#!/bin/sh
echo run >>` + count + `
for d; do :; done
found=$(grep -rl EICAR "$d")
for f in $found; do echo "$f: Eicar-Test-Signature FOUND"; done
[ -n "$found" ] && exit 1
exit 0
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, count
}

func runs(t *testing.T, count string) int {
	b, _ := os.ReadFile(count)
	return strings.Count(string(b), "run\n")
}

// ScanAll runs the scanner once over all contents and maps the findings
// back by index; content over MaxStream is not written.
func TestScanAll(t *testing.T) {
	path, count := countingClamscan(t)
	e, err := New(Options{Preset: ClamScan, Path: path, MaxStream: 100, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	contents := [][]byte{[]byte("whole message with EICAR"), []byte("clean"), []byte("EICAR here"), []byte(strings.Repeat("x", 101)), []byte("clean too")}
	res, err := e.ScanAll(context.Background(), contents)
	if err != nil {
		t.Fatal(err)
	}
	if n := runs(t, count); n != 1 {
		t.Errorf("scanner ran %d times, want 1", n)
	}
	for i, want := range []string{"Eicar-Test-Signature", "", "Eicar-Test-Signature", "", ""} {
		if got := strings.Join(res[i].Names(), ","); got != want || res[i].Engine != "clamscan" {
			t.Errorf("content %d: %q from %q, want %q", i, got, res[i].Engine, want)
		}
	}
	if !res[3].LimitExceeded || res[2].LimitExceeded {
		t.Errorf("LimitExceeded: content 3 %v (over MaxStream), content 2 %v", res[3].LimitExceeded, res[2].LimitExceeded)
	}
	if left, _ := os.ReadDir(e.opts.WorkDir); len(left) != 0 {
		t.Errorf("work directory not removed: %v", left)
	}
}

// A finding for a file ScanAll did not write is an error, never dropped.
func TestScanAllUnknownFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wrapper")
	os.WriteFile(p, []byte("#!/bin/sh\nfor d; do :; done\necho \"INFECTED::X::$d/other\"\nexit 1\n"), 0o755)
	e, _ := New(Options{Path: p, WorkDir: t.TempDir()})
	if res, err := e.ScanAll(context.Background(), [][]byte{[]byte("a")}); err == nil {
		t.Errorf("ScanAll = %+v, want an error for an unknown file", res)
	}
}

func TestBatchIndex(t *testing.T) {
	for _, tt := range []struct {
		path string
		n    int
		want int
		ok   bool
	}{
		{"part-0000", 1, 0, true},
		{"part-0002/inner/x.exe", 3, 2, true},
		{"part-0003", 3, 0, false},
		{"part-00001", 3, 0, false},
		{"part-+001", 3, 0, false},
		{"part-", 3, 0, false},
		{"other", 3, 0, false},
		{"part-12345", 20000, 12345, true},
	} {
		got, ok := batchIndex(tt.path, tt.n)
		if got != tt.want || ok != tt.ok {
			t.Errorf("batchIndex(%q, %d) = %d, %v; want %d, %v", tt.path, tt.n, got, ok, tt.want, tt.ok)
		}
	}
}
