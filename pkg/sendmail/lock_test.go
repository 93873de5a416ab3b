package sendmail

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

func queueFiles(t *testing.T) (qf, df string) {
	t.Helper()
	dir := t.TempDir()
	qf, df = filepath.Join(dir, "qfL1"), filepath.Join(dir, "dfL1")
	touch(t, qf, minimal, time.Now())
	touch(t, df, "body\n", time.Now())
	return qf, df
}

func TestLockSameProcess(t *testing.T) {
	qf, df := queueFiles(t)
	l, err := Lock(qf, df)
	if err != nil {
		t.Fatal(err)
	}
	// flock belongs to the open file description: a second open conflicts.
	if _, err := Lock(qf, df); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock = %v, want ErrLocked", err)
	}
	// Reading goes through the locked descriptors.
	q, err := ParseQf(l.Qf, Limits{})
	if err != nil || q.Sender() != "alice@sender.example" {
		t.Errorf("ParseQf(l.Qf) = %v; sender %q", err, q.Sender())
	}
	body, err := io.ReadAll(l.Df)
	if err != nil || string(body) != "body\n" {
		t.Errorf("read l.Df = %q, %v", body, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := Lock(qf, df)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	l2.Unlock()
}

// TestLockDfHeld checks that nothing stays held when only the df is locked
// elsewhere.
func TestLockDfHeld(t *testing.T) {
	qf, df := queueFiles(t)
	held, err := lockFile(df)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := Lock(qf, df); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock with df held = %v, want ErrLocked", err)
	}
	f, err := lockFile(qf)
	if err != nil {
		t.Fatalf("qf still locked after the failed Lock: %v", err)
	}
	f.Close()
}

func TestLockMissing(t *testing.T) {
	qf, df := queueFiles(t)
	os.Remove(df)
	if _, err := Lock(qf, df); !errors.Is(err, ErrNoDf) {
		t.Fatalf("Lock without df = %v, want ErrNoDf", err)
	}
	f, err := lockFile(qf)
	if err != nil {
		t.Fatalf("qf still locked after ErrNoDf: %v", err)
	}
	f.Close()
	os.Remove(qf)
	if _, err := Lock(qf, df); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lock without qf = %v, want ErrNotExist", err)
	}
}

// TestLockOtherProcess holds the qf lock in a child process (flock(1)
// from util-linux, which uses flock(2) as sendmail does).
func TestLockOtherProcess(t *testing.T) {
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) not installed")
	}
	qf, df := queueFiles(t)
	cmd := exec.Command(flock, "--exclusive", qf, "sh", "-c", "echo locked; read x; exit 0")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		if !waited {
			stdin.Close()
			cmd.Wait()
		}
	}()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	if _, err := Lock(qf, df); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock while a child holds the qf = %v, want ErrLocked", err)
	}
	stdin.Close() // the child exits and its lock goes with it
	waited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	l, err := Lock(qf, df)
	if err != nil {
		t.Fatalf("Lock after the child exited: %v", err)
	}
	l.Unlock()
}

func TestLockReplacedFile(t *testing.T) {
	qf, _ := queueFiles(t)
	f, err := os.OpenFile(qf, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Replace the path's inode, as a rename over it would.
	os.Remove(qf)
	touch(t, qf, minimal, time.Now())
	if safeio.StillNamed(f, qf) {
		t.Error("StillNamed after replace = true, want false")
	}
}

// TestLockRefusesSymlinks: a queue file that is a symbolic link (to any
// file the scanner can read) is never opened through it.
func TestLockRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "secret")
	touch(t, target, "root:secret\n", time.Now())
	qf, df := filepath.Join(dir, "qfX"), filepath.Join(dir, "dfX")
	touch(t, qf, minimal, time.Now())
	if err := os.Symlink(target, df); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(qf, df); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock with a symlinked df: %v, want ErrNotRegular", err)
	}
	os.Remove(df)
	touch(t, df, "body\n", time.Now())
	os.Remove(qf)
	if err := os.Symlink(target, qf); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(qf, df); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock with a symlinked qf: %v, want ErrNotRegular", err)
	}
}
