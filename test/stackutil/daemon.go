package stackutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// stopWait is how long Stop waits for the daemon after SIGTERM.
const stopWait = 60 * time.Second

// Binary returns the qscan binary under test: $QSCAN_BIN (make e2e sets
// it), else one built from the checkout's cmd/qscan into a temporary
// directory of the test.
func Binary(tb testing.TB) string {
	tb.Helper()
	if b := os.Getenv("QSCAN_BIN"); b != "" {
		return b
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("stackutil binary: cannot locate source; set QSCAN_BIN")
	}
	b := filepath.Join(tb.TempDir(), "qscan")
	cmd := exec.Command("go", "build", "-o", b, "./cmd/qscan")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return b
}

// DaemonOpts say where a daemon's output goes and how it is killed.
type DaemonOpts struct {
	Log     io.Writer // standard output and error
	LogFile string    // or: appended to this file (created if need be)
	// Group puts the daemon in a process group of its own, so that Kill
	// ends the sendmail kicks it started too. Without it Kill ends qscan
	// alone and the kicks go on, as after a real crash.
	Group bool
	// Env is added to the daemon's environment (e.g. LD_LIBRARY_PATH for
	// the tools of an unpacked Postfix).
	Env []string
}

// Daemon is a running `qscan run`.
type Daemon struct {
	cmd   *exec.Cmd
	group bool
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, set before done is closed
}

// NewDaemon starts `qscan run -c cfg` with the binary bin.
func NewDaemon(bin, cfg string, o DaemonOpts) (*Daemon, error) {
	cmd := exec.Command(bin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	var f *os.File
	if o.LogFile != "" {
		var err error
		if f, err = os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return nil, fmt.Errorf("stackutil daemon: %w", err)
		}
		cmd.Stdout, cmd.Stderr = f, f
	}
	if o.Group {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("stackutil daemon %s: %w", bin, err)
	}
	d := &Daemon{cmd: cmd, group: o.Group, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		if f != nil {
			f.Close()
		}
		close(d.done)
	}()
	return d, nil
}

// StartDaemon is NewDaemon for a test: a failure to start ends the test.
func StartDaemon(tb testing.TB, bin, cfg string, o DaemonOpts) *Daemon {
	tb.Helper()
	d, err := NewDaemon(bin, cfg, o)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Pid returns the daemon's process ID.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Alive reports whether the daemon is still running.
func (d *Daemon) Alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL (to the process group with DaemonOpts.Group) and
// waits for the daemon to go.
func (d *Daemon) Kill() {
	if d.group {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		d.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-d.done
}

// Stop sends SIGTERM and waits for the batch in hand to finish; a daemon
// still running after 60 s is killed. It reports a failed exit or the
// kill.
func (d *Daemon) Stop() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			return fmt.Errorf("qscan run exited with %w", d.err)
		}
		return nil
	case <-time.After(stopWait):
		d.Kill()
		return errors.New("qscan run did not stop within 60 s of SIGTERM")
	}
}

// Shutdown is Stop for a test: what Stop reports fails the test.
func (d *Daemon) Shutdown(tb testing.TB) {
	tb.Helper()
	if err := d.Stop(); err != nil {
		tb.Error(err)
	}
}
