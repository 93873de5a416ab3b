package safeio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "qfX")
	n, err := WriteFile(p, strings.NewReader("hello"), Options{SyncDir: true})
	if err != nil || n != 5 {
		t.Fatalf("WriteFile = %d, %v", n, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "hello" {
		t.Errorf("content = %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	// NoClobber keeps the existing file.
	_, err = WriteFile(p, strings.NewReader("other"), Options{NoClobber: true})
	if !errors.Is(err, ErrExists) {
		t.Errorf("NoClobber over existing: err = %v, want ErrExists", err)
	}
	b, _ = os.ReadFile(p)
	if string(b) != "hello" {
		t.Errorf("content after refused write = %q", b)
	}
	// Named temp (tf<ID> style), replacing.
	if _, err := WriteFile(p, strings.NewReader("new"), Options{TempName: "tfX"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tfX")); !os.IsNotExist(err) {
		t.Errorf("temp file left behind: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir holds %d entries, want 1 (no temp files)", len(ents))
	}
}

func TestLinkFileAndTemps(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "dfA")
	os.WriteFile(src, []byte("body"), 0o600)
	dst := filepath.Join(dir, "out-dfA")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stamp, err := StampOf(f)
	if err != nil {
		t.Fatal(err)
	}
	linked, err := LinkFile(f, dst, stamp, 0o600)
	if err != nil || !linked {
		t.Fatalf("LinkFile = %v, %v; want linked", linked, err)
	}
	if !SameFile(src, dst) {
		t.Error("SameFile = false after link")
	}
	if _, err := LinkFile(f, dst, stamp, 0o600); !errors.Is(err, ErrExists) {
		t.Errorf("LinkFile over existing: %v, want ErrExists", err)
	}
	os.WriteFile(filepath.Join(dir, TempPrefix+"x"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "tfSENDMAIL"), nil, 0o600)
	got, err := RemoveTemps(dir)
	if err != nil || len(got) != 1 {
		t.Fatalf("RemoveTemps = %v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tfSENDMAIL")); err != nil {
		t.Error("RemoveTemps removed a file that is not ours")
	}
}

func TestCreateNew(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tfA")
	if n, err := CreateNew(p, strings.NewReader("qf data"), 0); err != nil || n != 7 {
		t.Fatalf("CreateNew = %d, %v", n, err)
	}
	if _, err := CreateNew(p, strings.NewReader("again"), 0); !errors.Is(err, ErrExists) {
		t.Errorf("CreateNew over existing: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "qf data" {
		t.Errorf("content = %q", b)
	}
	// A failing reader leaves no partial file.
	q := filepath.Join(filepath.Dir(p), "tfB")
	if _, err := CreateNew(q, failingReader{}, 0); err == nil {
		t.Error("CreateNew with a failing reader: no error")
	}
	if _, err := os.Stat(q); !os.IsNotExist(err) {
		t.Errorf("partial file left: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
