package safeio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLinkFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "df")
	if err := os.WriteFile(src, []byte("read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stamp, err := StampOf(f)
	if err != nil {
		t.Fatal(err)
	}
	// The path now names another file: the link is of the open one.
	if err := os.Rename(filepath.Join(dir, "df"), filepath.Join(dir, "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte("swapped\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out")
	linked, err := LinkFile(f, dst, stamp, 0o600)
	if err != nil || !linked {
		t.Fatalf("LinkFile = %v, %v", linked, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "read\n" {
		t.Errorf("linked file holds %q, want what was open", b)
	}
	if _, err := LinkFile(f, dst, stamp, 0o600); !errors.Is(err, ErrExists) {
		t.Errorf("LinkFile over an existing file: %v, want ErrExists", err)
	}
	// Written to since the stamp: refused.
	w, err := os.OpenFile(filepath.Join(dir, "old"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("more\n")
	w.Close()
	if _, err := LinkFile(f, filepath.Join(dir, "out2"), stamp, 0o600); !errors.Is(err, ErrChanged) {
		t.Errorf("LinkFile of a changed file: %v, want ErrChanged", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "out2")); err == nil {
		t.Error("a changed file was linked out")
	}
}
