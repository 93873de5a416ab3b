package main

import (
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// qscanUser returns the ids of the real user qscan (scripts/install
// creates it), skipping the test when the test is not root or the user
// does not exist: only root can start qscan as another user.
func qscanUser(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	u, err := user.Lookup("qscan")
	if err != nil {
		t.Skip("needs the user qscan (scripts/install creates it)")
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// ownedTree lays out a demo tree whose queues, work dir and quarantine
// belong to user qscan, as scripts/install leaves them, readable on the
// way down for that user. The pid file's dir does not exist yet, as
// /run/qscan after a reboot.
func ownedTree(t *testing.T, uid, gid int) (root, cfg string) {
	t.Helper()
	root, cfg = demo(t, "")
	for _, d := range []string{filepath.Dir(root), root, filepath.Dir(qscanBin)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(cfg, 0o644)
	for _, d := range []string{"in", "out", "quarantine", "work"} {
		p := filepath.Join(root, d)
		os.Mkdir(p, 0o700)
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := os.ReadFile(cfg)
	out := strings.Replace(string(s), `pid_file = "work/qscan.pid"`, `pid_file = "run/qscan.pid"`, 1)
	if err := os.WriteFile(cfg, []byte(out+"[check]\noff_file = \"run/qscan.off\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, cfg
}

// procUID is the real user id of a running process.
func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("process %d: no Uid line", pid)
	return -1
}

// waitPidFile waits for qscan's pid file and returns the pid in it.
func waitPidFile(t *testing.T, path string) int {
	t.Helper()
	for range 100 {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pid file %s", path)
	return 0
}

// stopPid sends SIGTERM and waits for the process to go.
func stopPid(t *testing.T, pid int) {
	t.Helper()
	syscall.Kill(pid, syscall.SIGTERM)
	for range 200 {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("pid %d ignored SIGTERM", pid)
}

// rootOwned lists the files under root that belong to root, but for root
// itself and the configuration.
func rootOwned(t *testing.T, root, cfg string) []string {
	t.Helper()
	var bad []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root || p == cfg {
			return err
		}
		if info, err := d.Info(); err == nil && info.Sys().(*syscall.Stat_t).Uid == 0 {
			bad = append(bad, strings.TrimPrefix(p, root+"/"))
		}
		return nil
	})
	return bad
}

// TestCheckRestartAsOwner: `qscan check --restart` run by root's cron
// starts qscan as the user the install chose (the owner of the work dir),
// and neither it nor the new daemon leaves a root-owned file behind, so
// that the next start as qscan does not die on its own journal.
func TestCheckRestartAsOwner(t *testing.T) {
	uid, gid := qscanUser(t)
	root, cfg := ownedTree(t, uid, gid)
	out, code := qscan(t, "check", "--restart", "-c", cfg)
	if !strings.Contains(out, "qscan started") {
		t.Fatalf("check --restart = %d %q, want qscan started", code, out)
	}
	pid := waitPidFile(t, filepath.Join(root, "run", "qscan.pid"))
	defer stopPid(t, pid)
	if got := procUID(t, pid); got != uid {
		t.Errorf("daemon runs as uid %d, want %d (qscan)", got, uid)
	}
	stopPid(t, pid)
	if bad := rootOwned(t, root, cfg); len(bad) > 0 {
		t.Errorf("root-owned files left in qscan's dirs: %v", bad)
	}
}

// TestRunAsRootBecomesOwner: `qscan run` started by root in a tree that
// belongs to user qscan runs as qscan, and leaves no root-owned files.
func TestRunAsRootBecomesOwner(t *testing.T) {
	uid, gid := qscanUser(t)
	root, cfg := ownedTree(t, uid, gid)
	run := filepath.Join(root, "run")
	os.Mkdir(run, 0o755)
	os.Chown(run, uid, gid)
	cmd := exec.Command(qscanBin, "run", "-c", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var pid int
	select {
	case err := <-done:
		t.Fatalf("qscan run as root exited: %v", err)
	case <-time.After(100 * time.Millisecond):
		pid = waitPidFile(t, filepath.Join(run, "qscan.pid"))
	}
	if got := procUID(t, pid); got != uid {
		t.Errorf("qscan run started by root runs as uid %d, want %d (qscan)", got, uid)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if bad := rootOwned(t, root, cfg); len(bad) > 0 {
		t.Errorf("root-owned files left in qscan's dirs: %v", bad)
	}
}
