package health

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxPidFileBytes bounds the read of a pid file ("1234\n").
const maxPidFileBytes = 64

// maxCmdlineBytes bounds the read of /proc/PID/cmdline; argv[0] comes first.
const maxCmdlineBytes = 4096

// checkDaemon finds the daemon through the pid file. It returns its pid, or
// a problem when it is not running.
func checkDaemon(o Options) (int, *Problem) {
	notRunning := func(format string, a ...any) (int, *Problem) {
		why := fmt.Sprintf(format, a...)
		return 0, &Problem{Kind: KindNotRunning, Text: fmt.Sprintf("%s is not running (pid file %s: %s)", o.ProcName, o.PidFile, why)}
	}
	pid, err := readPidFile(o.PidFile)
	if errors.Is(err, os.ErrNotExist) {
		return notRunning("no such file")
	}
	if err != nil {
		return notRunning("%v", err)
	}
	alive, argv, err := o.ProcessInfo(pid)
	if err != nil {
		// Cannot tell: report it, but not as "not running" (which would
		// start a second daemon).
		return 0, &Problem{Kind: KindStatus, Text: fmt.Sprintf("%s pid %d (pid file %s): %v", o.ProcName, pid, o.PidFile, err)}
	}
	if !alive {
		return notRunning("no such process %d", pid)
	}
	if len(argv) == 0 || !strings.Contains(filepath.Base(argv[0]), o.ProcName) {
		name := "a process without command line"
		if len(argv) > 0 {
			name = strconv.Quote(oneLine(filepath.Base(argv[0])))
		}
		return notRunning("pid %d is %s, not %s", pid, name, o.ProcName)
	}
	if len(argv) < 2 || argv[1] != o.ProcArg {
		return notRunning("pid %d is %q, not %s %s", pid, oneLine(strings.Join(argv, " ")), o.ProcName, o.ProcArg)
	}
	return pid, nil
}

// readPidFile reads a pid file holding one positive decimal number.
func readPidFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPidFileBytes))
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("not a pid: %q", oneLine(s))
	}
	return pid, nil
}

// processInfo tells whether pid exists (kill 0; EPERM means it exists but
// belongs to another user) and returns its argument vector. A zombie or a
// kernel thread has an empty one.
func processInfo(pid int) (alive bool, argv []string, err error) {
	if err := syscall.Kill(pid, 0); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return false, nil, nil
		}
		if !errors.Is(err, syscall.EPERM) {
			return false, nil, fmt.Errorf("kill %d 0: %w", pid, err)
		}
	}
	path := fmt.Sprintf("/proc/%d/cmdline", pid)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil, nil // exited in between
	}
	if err != nil {
		return false, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCmdlineBytes))
	if err != nil {
		return false, nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return true, nil, nil
	}
	return true, strings.Split(string(b), "\x00"), nil
}

// WritePidFile writes this process's pid to path, creating its directory;
// it refuses to start a second daemon on the same pid file (one whose pid
// still runs).
func WritePidFile(path string) error {
	if pid, err := readPidFile(path); err == nil && pid != os.Getpid() {
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("qscan already running with pid %d (%s)", pid, path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}
