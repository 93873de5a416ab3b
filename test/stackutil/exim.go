package stackutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Exim holds what the exim plug-in of the stack (scripts/teststack.d/
// exim.sh) exports: a real Exim 4.96 unpacked into the stack, run as two
// instances with their own configuration files and spools.
type Exim struct {
	Bin      string // EXIM_BIN: the exim4 binary
	SMTP     string // EXIM_SMTP: exim-in's SMTP listener, host:port
	SMTP6    string // EXIM_SMTP6: the same on ::1
	ConfIn   string // EXIM_CONF_IN: exim-in's configuration (queue_only)
	ConfOut  string // EXIM_CONF_OUT: exim-out's (routes all to the sink)
	SpoolIn  string // EXIM_SPOOL_IN: exim-in's spool (input/ flat)
	SpoolOut string // EXIM_SPOOL_OUT: exim-out's spool (split_spool_directory)
}

// Exim returns the exim plug-in's paths of this stack.
func (s Stack) Exim() (Exim, error) {
	out, err := s.run("env")
	if err != nil {
		return Exim{}, err
	}
	vars, err := parseEnv(out)
	if err != nil {
		return Exim{}, err
	}
	e := Exim{Bin: vars["EXIM_BIN"], SMTP: vars["EXIM_SMTP"], SMTP6: vars["EXIM_SMTP6"], ConfIn: vars["EXIM_CONF_IN"],
		ConfOut: vars["EXIM_CONF_OUT"], SpoolIn: vars["EXIM_SPOOL_IN"], SpoolOut: vars["EXIM_SPOOL_OUT"]}
	if e.Bin == "" || e.ConfOut == "" || e.SpoolOut == "" {
		return e, fmt.Errorf("stackutil exim: teststack env has no EXIM_* variables (scripts/teststack.d/exim.sh missing?)")
	}
	return e, nil
}

// RequireExim returns the stack with the sink and both Exim instances up,
// starting them if needed (see Require).
func RequireExim(tb testing.TB) (Stack, Exim) {
	tb.Helper()
	s := Require(tb, "sink", "exim")
	e, err := s.Exim()
	if err != nil {
		tb.Fatal(err)
	}
	return s, e
}

// Command returns a run of exim with configuration conf (ConfIn or
// ConfOut) and args, as an argument vector.
func (e Exim) Command(conf string, args ...string) *exec.Cmd {
	return exec.Command(e.Bin, append([]string{"-C", conf}, args...)...)
}

// Out runs exim-out with args and returns its standard output.
func (e Exim) Out(args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := e.Command(e.ConfOut, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("exim %s: %w: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// Deliver runs `exim -M ID...` on exim-out: a delivery attempt of each
// message now, in the foreground.
func (e Exim) Deliver(ids ...string) error {
	out, err := e.Command(e.ConfOut, append([]string{"-M"}, ids...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("exim -M %s: %w: %s", strings.Join(ids, " "), err, out)
	}
	return nil
}

// eximID matches an Exim 4.96 message ID in `exim -bp` output.
var eximID = regexp.MustCompile(`\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b`)

// QueueIDs returns the IDs exim-out lists (`exim -bp`; Exim 4.96 has no
// -bpi).
func (e Exim) QueueIDs() ([]string, error) {
	out, err := e.Out("-bp")
	if err != nil {
		return nil, err
	}
	return eximID.FindAllString(string(out), -1), nil
}

// SpoolIDs returns the IDs of the -H files in a spool's input/ and its
// one-letter sub-directories, sorted.
func SpoolIDs(spool string) []string {
	var ids []string
	for _, pattern := range []string{"input/*-H", "input/?/*-H"} {
		m, _ := filepath.Glob(filepath.Join(spool, pattern))
		for _, p := range m {
			ids = append(ids, strings.TrimSuffix(filepath.Base(p), "-H"))
		}
	}
	slices.Sort(ids)
	return ids
}

// WaitSpool waits until a spool holds at least n messages and returns
// their IDs.
func WaitSpool(spool string, n int, timeout time.Duration) ([]string, error) {
	var ids []string
	err := poll(timeout, func() (bool, error) {
		ids = SpoolIDs(spool)
		return len(ids) >= n, nil
	})
	if err != nil {
		return ids, fmt.Errorf("stackutil wait spool %s: %d of %d messages: %w", spool, len(ids), n, err)
	}
	return ids, nil
}

// EmptySpool removes every message file of a spool's input/ and msglog/:
// for tests that start from an empty queue (the stack must not be in use).
func EmptySpool(spool string) error {
	for _, pattern := range []string{"input/*", "input/?/*", "msglog/*", "msglog/?/*"} {
		m, _ := filepath.Glob(filepath.Join(spool, pattern))
		for _, p := range m {
			if st, err := os.Lstat(p); err == nil && !st.IsDir() {
				if err := os.Remove(p); err != nil {
					return fmt.Errorf("stackutil empty spool: %w", err)
				}
			}
		}
	}
	return nil
}
