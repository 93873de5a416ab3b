// Package golden compares what a test produces with a golden file and
// rewrites the file when the test runs with -update: the one -update flag
// of the module's tests (go test ./pkg/x -update).
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files with what the tests produce")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Check compares got with the golden file at path and reports a
// difference as a line diff (-want +got). With -update it first writes
// got to path, creating its directory.
func Check(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatalf("golden update %s: %v", path, err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatalf("golden update %s: %v", path, err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("golden %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (-want +got; run go test -update if the change is intended):\n%s", path, Diff(want, got))
	}
}
