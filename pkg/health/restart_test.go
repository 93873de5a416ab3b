package health

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRestartDetached(t *testing.T) {
	log := filepath.Join(t.TempDir(), "qscan.log")
	pid, err := Restart([]string{"sleep", "30"}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if !running(pid) {
		t.Fatalf("pid %d not running", pid)
	}
	sid, err := unix.Getsid(pid)
	if err != nil || sid != pid {
		t.Errorf("Getsid(%d) = %d, %v; want its own session", pid, sid, err)
	}
	links := map[string]string{"fd/0": os.DevNull, "fd/1": log, "fd/2": log, "cwd": "/"}
	for name, want := range links {
		got, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/" + name)
		if err != nil || got != want {
			t.Errorf("/proc/%d/%s -> %q, %v; want %q", pid, name, got, err, want)
		}
	}
	if err := Stop(pid, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if running(pid) {
		t.Errorf("pid %d still running after Stop", pid)
	}
}

func TestRestartFailsAtOnce(t *testing.T) {
	log := filepath.Join(t.TempDir(), "qscan.log")
	os.WriteFile(log, []byte("earlier line\n"), 0o640)
	_, err := Restart([]string{"ls", "/nonexistent-qscan-dir"}, log)
	if err == nil || !strings.Contains(err.Error(), "exit status") || !strings.Contains(err.Error(), log) {
		t.Errorf("Restart(failing) = %v, want exit status and the log file named", err)
	}
	b, _ := os.ReadFile(log)
	if !strings.HasPrefix(string(b), "earlier line\n") || !strings.Contains(string(b), "nonexistent-qscan-dir") {
		t.Errorf("log = %q, want the old line kept and the program's error appended", b)
	}

	if _, err := Restart(nil, log); !errors.Is(err, ErrNoCommand) {
		t.Errorf("Restart(nil) = %v, want ErrNoCommand", err)
	}
	if _, err := Restart([]string{"/nonexistent/qscan"}, log); err == nil {
		t.Error("Restart(missing binary) succeeded")
	}
	if _, err := Restart([]string{"sleep", "1"}, filepath.Join(t.TempDir(), "no", "log")); err == nil {
		t.Error("Restart with an unwritable log succeeded")
	}
}

// TestStopIgnoresTerm: a daemon stuck so badly that it ignores SIGTERM is
// killed after the grace time.
func TestStopIgnoresTerm(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	pid, err := Restart([]string{"sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	if err := Stop(pid, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if running(pid) {
		t.Errorf("pid %d survived Stop", pid)
	}
	if err := Stop(pid, time.Second); err != nil {
		t.Errorf("Stop(gone pid) = %v, want nil", err)
	}
}

// TestZombieIsNotRunning: a dead but unreaped daemon has no command line
// and counts as not running.
func TestZombieIsNotRunning(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for i := 0; running(pid) && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if running(pid) {
		t.Fatalf("pid %d did not become a zombie", pid)
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	os.WriteFile(pidFile, []byte(strconv.Itoa(pid)), 0o644)
	ps := Check(Options{PidFile: pidFile}, now)
	if len(ps) != 1 || ps[0].Kind != KindNotRunning || !strings.Contains(ps[0].Text, "without command line") {
		t.Errorf("Check(zombie) = %+v, want not running", ps)
	}
}

func TestRestartAs(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	if _, err := RestartAs([]string{"sleep", "30"}, log, "no-such-user-qscan"); err == nil {
		t.Error("RestartAs(unknown user) succeeded")
	}
	if os.Geteuid() != 0 {
		t.Skip("changing user needs root")
	}
	pid, err := RestartAs([]string{"sleep", "30"}, log, "nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer Stop(pid, time.Second)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && (f[0] == "Uid:" || f[0] == "Gid:") && f[1] != "65534" {
			t.Errorf("%s, want 65534 (nobody)", line)
		}
	}
}
