// Package stackutil drives qscan's real test stack (scripts/teststack) from Go
// end-to-end tests: it starts and stops the stack, submits mail to the
// incoming sendmail, runs the outgoing queue and reads what reached the sink.
//
// The stack needs root to start; tests that use it live in files with the
// e2e build tag and call Require.
package stackutil

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Stack holds the addresses and paths that `scripts/teststack env` prints.
type Stack struct {
	Dir         string // QSCAN_STACK: the state directory
	Ports       string // QSCAN_STACK_PORTS: the offset added to every port
	CF          string // QSCAN_STACK_CF: sendmail config for both instances
	SMTPIn      string // SMTP_IN: incoming sendmail, host:port
	SinkAddr    string // SINK_ADDR: the SMTP sink, host:port
	SinkDir     string // SINK_DIR: where the sink stores <n>.eml and <n>.env
	ClamdSocket string // CLAMD_SOCKET: clamd unix socket
	ClamdAddr   string // CLAMD_ADDR: clamd TCP, host:port
	SpamdAddr   string // SPAMD_ADDR: spamd, host:port
	Incoming    string // INCOMING: sendmail #1's queue dir (mqueue.in)
	Outgoing    string // OUTGOING: sendmail #2's queue dir (mqueue)
	PGDSN       string // QSCAN_PG_DSN: the postgresql plug-in's database (when started)
}

// fields maps each variable of `teststack env` to its Stack field.
func (s *Stack) fields() map[string]*string {
	return map[string]*string{
		"QSCAN_STACK": &s.Dir, "QSCAN_STACK_PORTS": &s.Ports, "QSCAN_STACK_CF": &s.CF, "SMTP_IN": &s.SMTPIn,
		"SINK_ADDR": &s.SinkAddr, "SINK_DIR": &s.SinkDir, "CLAMD_SOCKET": &s.ClamdSocket,
		"CLAMD_ADDR": &s.ClamdAddr, "SPAMD_ADDR": &s.SpamdAddr,
		"INCOMING": &s.Incoming, "OUTGOING": &s.Outgoing, "QSCAN_PG_DSN": &s.PGDSN,
	}
}

// KickArgs returns the argument vector that delivers the given queue IDs from
// the outgoing queue now, as qscan's kick does: sendmail -qI<ID> per ID.
// sendmail forks the queue run and returns before the delivery is done.
func (s Stack) KickArgs(ids ...string) []string {
	args := []string{"sendmail", "-C", s.CF, "-OQueueDirectory=" + s.Outgoing}
	for _, id := range ids {
		args = append(args, "-qI"+id)
	}
	return args
}

// Script returns the path of scripts/teststack: $QSCAN_TESTSTACK if set,
// else the copy in the checkout this package was compiled from.
func Script() (string, error) {
	path := os.Getenv("QSCAN_TESTSTACK")
	if path == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", errors.New("stackutil script: cannot locate source; set QSCAN_TESTSTACK")
		}
		path = filepath.Join(filepath.Dir(file), "..", "..", "scripts", "teststack")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("stackutil script: %w (set QSCAN_TESTSTACK)", err)
	}
	return path, nil
}

// run runs the teststack script with args and returns its standard output;
// its standard error goes into the error.
func run(args ...string) ([]byte, error) {
	return runEnv(nil, args...)
}

// run runs the teststack script on this stack: its state directory and
// port offset, whatever the process environment names.
func (s Stack) run(args ...string) ([]byte, error) {
	return runEnv([]string{"QSCAN_STACK=" + s.Dir, "QSCAN_STACK_PORTS=" + s.Ports}, args...)
}

// runEnv runs the teststack script with the process environment plus env.
func runEnv(env []string, args ...string) ([]byte, error) {
	script, err := Script()
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(script, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("teststack %s: %w\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// Env returns the stack's addresses and paths from `scripts/teststack env`.
// A variable set (non-empty) in the process environment wins over the
// script's value, so a CI job can point the tests elsewhere.
func Env() (Stack, error) {
	var s Stack
	out, err := run("env")
	if err != nil {
		return s, err
	}
	vars, err := parseEnv(out)
	if err != nil {
		return s, err
	}
	for name, field := range s.fields() {
		*field = vars[name]
		if v := os.Getenv(name); v != "" {
			*field = v
		}
		if *field == "" && name != "QSCAN_PG_DSN" {
			return s, fmt.Errorf("stackutil env: %s missing", name)
		}
	}
	return s, nil
}

// Start starts the named components (sink, sendmail, clamd, spamd; all when
// none is named) and waits until they answer. It needs root.
func Start(components ...string) error {
	_, err := run(append([]string{"start"}, components...)...)
	return err
}

// Stop stops the named components (all when none is named).
func Stop(components ...string) error {
	_, err := run(append([]string{"stop"}, components...)...)
	return err
}

// Status reports an error unless all named components (default all) answer.
func Status(components ...string) error {
	_, err := run(append([]string{"status"}, components...)...)
	return err
}

// Flush runs the outgoing queue once in the foreground (sendmail -qf): what
// it could deliver is at the sink when Flush returns.
func Flush() error {
	_, err := run("flush")
	return err
}

// Start starts the named components of this stack (all when none is
// named) on its ports and waits until they answer. It needs root.
func (s Stack) Start(components ...string) error {
	_, err := s.run(append([]string{"start"}, components...)...)
	return err
}

// Stop stops the named components of this stack (all when none is named).
func (s Stack) Stop(components ...string) error {
	_, err := s.run(append([]string{"stop"}, components...)...)
	return err
}

// Status reports an error unless the named components of this stack
// (default all) answer.
func (s Stack) Status(components ...string) error {
	_, err := s.run(append([]string{"status"}, components...)...)
	return err
}

// Flush runs this stack's outgoing queue once in the foreground.
func (s Stack) Flush() error {
	_, err := s.run("flush")
	return err
}

// Require returns the running stack with the named components up, starting
// them if needed. Without root and with the stack down, it skips the test.
func Require(tb testing.TB, components ...string) Stack {
	tb.Helper()
	if err := Status(components...); err != nil {
		if os.Geteuid() != 0 {
			tb.Skipf("test stack not running and not root (run: sudo scripts/teststack start): %v", err)
		}
		if err := Start(components...); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := Env()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Submit sends msg by SMTP to addr (no TLS, no auth). Bare LF line endings
// in msg are sent as CRLF, and lines are dot-stuffed.
func Submit(addr, from string, to []string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	defer conn.Close()
	// A hung server must fail the test, not hang it.
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	if err := send(c, from, to, msg); err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	return nil
}

func send(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := c.Hello("stackutil.example.test"); err != nil {
		return err
	}
	if err := transaction(c, from, to, msg); err != nil {
		return err
	}
	return c.Quit()
}
