package command

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/qscan/qscan/pkg/virus"
)

var _ virus.Scanner = (*Engine)(nil)

// ScanDir runs the scanner over dir and returns the findings by file, keyed
// by slash-separated paths relative to dir. Files not in the map are clean.
//
// It fails (wrapping virus.ErrUnavailable) when the scanner cannot be run,
// times out, prints more than MaxOutput, reports an error for any file or
// its own failure, names a file outside dir, or ends in a way its contract
// does not allow: for the clam presets exit 0 (clean) or 1 (found; some
// FOUND line required), for a generic wrapper exit 0, or non-zero with at
// least one INFECTED line.
func (e *Engine) ScanDir(ctx context.Context, dir string) (map[string]virus.Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, virus.Errorf(e.name, "scan %s: %w", dir, err)
	}
	out, stderr, code, err := e.run(ctx, abs)
	if err != nil {
		return nil, err
	}
	found, err := e.collect(out, abs)
	if err != nil {
		return nil, err
	}
	if err := e.checkExit(code, len(found) > 0); err != nil {
		if stderr != "" {
			err = fmt.Errorf("%w (stderr: %s)", err, stderr)
		}
		return nil, virus.Errorf(e.name, "scan %s: %w", abs, err)
	}
	return found, nil
}

// checkExit applies the exit-status rules of ScanDir.
func (e *Engine) checkExit(code int, found bool) error {
	switch {
	case code == 0:
		return nil
	case e.clam && code == 1 && found:
		return nil
	case e.clam && code == 1:
		return errors.New("exit status 1 (virus found) without a FOUND line")
	case e.clam:
		return fmt.Errorf("exit status %d (errors: some files may not have been scanned)", code)
	case found:
		return nil
	}
	return fmt.Errorf("exit status %d", code)
}

// collect parses the output into findings.
func (e *Engine) collect(out []byte, dir string) (map[string]virus.Result, error) {
	found := map[string]virus.Result{}
	parse := ParseGeneric
	if e.clam {
		parse = ParseClam
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		l := parse(sc.Text())
		switch l.Kind {
		case KindFailed:
			return nil, virus.Errorf(e.name, "scan %s: scanner reports failure: %s", dir, quote(l.Text))
		case KindError:
			return nil, virus.Errorf(e.name, "scan %s: %s: %s", dir, quote(l.Path), l.Text)
		case KindInfected:
			rel, err := relPath(dir, l.Path)
			if err != nil {
				return nil, virus.Errorf(e.name, "scan %s: %w", dir, err)
			}
			r := found[rel]
			r.Engine = e.name
			r.Findings = append(r.Findings, virus.NewFinding(e.name, l.Name))
			found[rel] = r
		}
	}
	if err := sc.Err(); err != nil {
		return nil, virus.Errorf(e.name, "scan %s: output: %w", dir, err)
	}
	return found, nil
}

// relPath maps a path printed by the scanner (absolute, or relative to dir,
// where the scanner runs) to a slash path relative to dir.
func relPath(dir, p string) (string, error) {
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return "", fmt.Errorf("path %s outside the scan directory", quote(p))
		}
		p = r
	}
	p = filepath.Clean(p)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("path %s outside the scan directory", quote(p))
	}
	return filepath.ToSlash(p), nil
}

// run starts the program over dir and returns its standard output, the
// start of its standard error (quoted for a log line) and its exit status.
// Errors are the ones that leave no usable output.
func (e *Engine) run(ctx context.Context, dir string) (stdout []byte, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	outBuf := &capped{max: e.opts.MaxOutput, overflow: cancel}
	errBuf := &capped{max: 4 << 10}
	cmd := exec.CommandContext(ctx, e.argv[0], slices.Concat(e.argv[1:], []string{dir})...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = outBuf, errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Kill the whole group: wrappers start the real scanner as a child.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	stderr = quote(strings.TrimSpace(errBuf.String()))
	switch {
	case outBuf.overflowed():
		return nil, "", 0, virus.Errorf(e.name, "scan %s: more than %d bytes of output", dir, e.opts.MaxOutput)
	case ctx.Err() != nil:
		return nil, "", 0, virus.Errorf(e.name, "scan %s: %w", dir, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return outBuf.bytes(), stderr, ee.ExitCode(), nil
	}
	if err != nil {
		if stderr != "" {
			err = fmt.Errorf("%w (stderr: %s)", err, stderr)
		}
		return nil, "", 0, virus.Errorf(e.name, "scan %s: %w", dir, err)
	}
	return outBuf.bytes(), stderr, 0, nil
}

// capped keeps the first max bytes written to it; past that it records the
// overflow and calls overflow (once), but keeps accepting writes so that the
// program is not blocked on a full pipe before it is killed.
type capped struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int64
	over     bool
	overflow func()
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - int64(c.buf.Len())
	if int64(len(p)) > room {
		c.buf.Write(p[:max(room, 0)])
		if !c.over && c.overflow != nil {
			c.overflow()
		}
		c.over = true
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) overflowed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.over
}

func (c *capped) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Bytes()
}

func (c *capped) String() string { return string(c.bytes()) }

// contentName is the file name Scan gives the content.
const contentName = "content"

// Scan writes r to a fresh directory under WorkDir and scans it, for use
// where engines take a stream (virus.Multi). Content larger than MaxStream
// is not written: the result has LimitExceeded.
func (e *Engine) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	res := virus.Result{Engine: e.name}
	dir, err := os.MkdirTemp(e.opts.WorkDir, "qscan-scan-*")
	if err != nil {
		return res, virus.Errorf(e.name, "scan: %w", err)
	}
	defer os.RemoveAll(dir)
	f, err := os.OpenFile(filepath.Join(dir, contentName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return res, virus.Errorf(e.name, "scan: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, e.opts.MaxStream+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, virus.Errorf(e.name, "scan: write content: %w", err)
	}
	if n > e.opts.MaxStream {
		res.LimitExceeded = true
		return res, nil
	}
	found, err := e.ScanDir(ctx, dir)
	if err != nil {
		return res, err
	}
	for path, r := range found {
		if path != contentName && !strings.HasPrefix(path, contentName+"/") {
			return res, virus.Errorf(e.name, "scan: finding for unknown file %s", quote(path))
		}
		res.Findings = append(res.Findings, r.Findings...)
	}
	return res, nil
}
