package health

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/internal/golden"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func sampleStatus() Status {
	return Status{
		PID: 4242, Version: "1.0.0",
		Started: t0, Updated: t0.Add(90 * time.Second), LastBatch: t0.Add(80 * time.Second),
		Held: 3,
		Engines: map[string]EngineStatus{
			"clamd": {Up: false, Since: t0.Add(20 * time.Second), LastError: "clamd connect /run/clamav/clamd.ctl: connection refused"},
			"spamd": {Up: true, Since: t0},
		},
	}
}

// TestStatusFormat pins the file format: other tools (monitoring, a
// `qscan check` of another version) read it.
func TestStatusFormat(t *testing.T) {
	dir := t.TempDir()
	if err := WriteStatus(dir, sampleStatus()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "status.want"), got)
	fi, err := os.Stat(filepath.Join(dir, StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("status file mode = %v, want 0644", fi.Mode().Perm())
	}
}

func TestStatusRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Status{sampleStatus(), {PID: 1, Started: t0, Updated: t0}} {
		if err := WriteStatus(dir, s); err != nil {
			t.Fatal(err)
		}
		got, err := ReadStatus(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("ReadStatus = %+v, want %+v", got, s)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir holds %d files after two writes, want 1 (no temp files left)", len(ents))
	}
}

func TestReadStatusErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadStatus(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadStatus(empty dir) = %v, want os.ErrNotExist", err)
	}
	path := filepath.Join(dir, StatusFile)
	os.WriteFile(path, []byte(`{"pid": "x"`), 0o644)
	if _, err := ReadStatus(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadStatus(bad json) = %v, want an error naming %s", err, path)
	}
	big := append([]byte(`{"version":"`), bytes.Repeat([]byte("a"), MaxStatusBytes)...)
	os.WriteFile(path, append(big, `"}`...), 0o644)
	if _, err := ReadStatus(dir); !errors.Is(err, ErrStatusTooLarge) {
		t.Errorf("ReadStatus(huge) = %v, want ErrStatusTooLarge", err)
	}
}

// FuzzParseStatus: whatever lies in the status file, parsing returns
// without panicking, and what it accepts survives a round trip.
func FuzzParseStatus(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "status.want")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"engines":{"":{"up":true}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseStatus(b)
		if err != nil {
			return
		}
		dir := t.TempDir()
		if err := WriteStatus(dir, s); err != nil {
			t.Fatalf("WriteStatus(parsed %q): %v", b, err)
		}
		if _, err := ReadStatus(dir); err != nil {
			t.Fatalf("ReadStatus after WriteStatus(parsed %q): %v", b, err)
		}
	})
}
