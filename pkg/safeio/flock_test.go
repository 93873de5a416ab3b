package safeio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestLockFile: the lock is exclusive between descriptors; a symbolic
// link, a missing file and a failed check are refused with their errors;
// a file replaced under the same name is no longer StillNamed.
func TestLockFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "qfA")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LockFile(p, os.O_RDWR, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockFile(p, os.O_RDONLY, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second lock = %v, want ErrLocked", err)
	}
	f.Close()
	g, err := LockFile(p, os.O_RDONLY, nil)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	g.Close()
	link := filepath.Join(dir, "qfL")
	os.Symlink(p, link)
	if _, err := LockFile(link, os.O_RDONLY, nil); !errors.Is(err, ErrNotRegular) {
		t.Errorf("symlink = %v, want ErrNotRegular", err)
	}
	if _, err := LockFile(filepath.Join(dir, "none"), os.O_RDONLY, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing = %v, want ErrNotExist", err)
	}
	notReady := errors.New("not ready")
	if _, err := LockFile(p, os.O_RDONLY, func(fs.FileInfo) error { return notReady }); !errors.Is(err, notReady) {
		t.Errorf("failed check = %v, want it wrapped", err)
	}
	h, err := LockFile(p, os.O_RDONLY, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	os.Remove(p)
	os.WriteFile(p, []byte("y"), 0o600)
	if StillNamed(h, p) {
		t.Error("StillNamed after the name was given to a new file")
	}
}
