package health

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// RestartSettle is how long Restart watches the new daemon: one that exits
// within this time failed to start (bad configuration, missing directory),
// and Restart says so instead of reporting success.
const RestartSettle = 2 * time.Second

// ErrNoCommand is returned by Restart for an empty argument vector.
var ErrNoCommand = errors.New("health: empty command")

// Restart starts the daemon detached from the caller, as the caller's
// user; see RestartAs.
func Restart(argv []string, logFile string) (int, error) {
	return RestartAs(argv, logFile, "")
}

// RestartAs starts the daemon detached from the caller: argv is executed
// directly (no shell) in a new session, with "/" as working directory,
// standard input from /dev/null and standard output and error appended to
// logFile. It returns the new pid once the daemon has stayed up for
// RestartSettle, or an error with its exit status when it died sooner.
//
// When userName is not empty the daemon runs as that user, with its
// primary and supplementary groups (the caller must be root): a daemon
// restarted by root's cron job must not start writing root-owned files
// into queues that user qscan works on. The log file is opened by the
// caller.
//
// The daemon is reaped by a goroutine of the caller, which normally exits
// soon after (qscan check); it is then inherited by init.
func RestartAs(argv []string, logFile, userName string) (int, error) {
	if len(argv) == 0 || argv[0] == "" {
		return 0, ErrNoCommand
	}
	attr := &syscall.SysProcAttr{Setsid: true}
	if userName != "" {
		cred, err := credential(userName)
		if err != nil {
			return 0, fmt.Errorf("restart %s: %w", argv[0], err)
		}
		attr.Credential = cred
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("restart %s: %w", argv[0], err)
	}
	defer devnull.Close()
	logf, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return 0, fmt.Errorf("restart %s: open log: %w", argv[0], err)
	}
	defer logf.Close()

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	// New session: no controlling terminal, and cron's or the shell's
	// signals to the checker's process group do not reach the daemon.
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("restart %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil {
			err = errors.New("exited with status 0")
		}
		return 0, fmt.Errorf("restart %s: pid %d died at once (see %s): %w", argv[0], pid, logFile, err)
	case <-time.After(RestartSettle):
		return pid, nil
	}
}

// credential looks up a user's ids and groups.
func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", name, err)
	}
	c := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	for _, id := range ids {
		g, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("groups of user %s: %w", name, err)
		}
		c.Groups = append(c.Groups, uint32(g))
	}
	return c, nil
}

// Stop sends SIGTERM to pid (a stuck daemon, so that it can be restarted),
// waits up to grace for it to go, then sends SIGKILL. It returns nil when
// the process is gone. The qscan daemon finishes its batch on SIGTERM, so
// grace should exceed the batch time limit it has left; a stuck daemon
// will not finish it anyway.
func Stop(pid int, grace time.Duration) error {
	if pid <= 0 {
		return fmt.Errorf("stop pid %d: not a pid", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	const poll = 100 * time.Millisecond
	for waited := time.Duration(0); waited < grace; waited += poll {
		if !running(pid) {
			return nil
		}
		time.Sleep(poll)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	for range 50 {
		if !running(pid) {
			return nil
		}
		time.Sleep(poll)
	}
	return fmt.Errorf("stop pid %d: still there after SIGKILL", pid)
}

// running is true while pid exists and is not a zombie (state Z in
// /proc/PID/stat, after the parenthesised command name).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// StartOptions say where a daemon started by Start keeps its files.
type StartOptions struct {
	PidFile string // its directory is created for the daemon's user
	LogFile string // created for the daemon's user; receives its output
	WorkDir string // its owner is the user the daemon runs as
	// Stderr gets systemctl's complaint when it could not start the
	// daemon (Start then starts it itself); nil: none.
	Stderr io.Writer
}

// Start starts the daemon argv detached, and says how; on a systemd host
// through systemctl, so that systemd keeps supervising it. Started by
// root it runs as the owner of the work dir (user qscan unless the
// install chose root), and the pid file's dir and the log it creates are
// that user's.
func Start(argv []string, o StartOptions) (string, error) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if out, err := exec.Command("systemctl", "start", "qscan").CombinedOutput(); err == nil {
			return "qscan started with systemctl", nil
		} else if len(out) > 0 && o.Stderr != nil {
			fmt.Fprintf(o.Stderr, "qscan check: systemctl start qscan: %s", out)
		}
	}
	owner, err := WorkDirOwner(o.WorkDir)
	if err != nil {
		return "", err
	}
	if err := mkdirOwned(filepath.Dir(o.PidFile), owner); err != nil {
		return "", fmt.Errorf("pid file dir: %w", err)
	}
	if err := createOwned(o.LogFile, owner); err != nil {
		return "", fmt.Errorf("restart log: %w", err)
	}
	as := ""
	if owner != nil {
		as = owner.Name
	}
	pid, err := RestartAs(argv, o.LogFile, as)
	if err != nil {
		return "", err
	}
	if as != "" {
		return fmt.Sprintf("qscan started as user %s, pid %d, output in %s", as, pid, o.LogFile), nil
	}
	return fmt.Sprintf("qscan started, pid %d, output in %s", pid, o.LogFile), nil
}
