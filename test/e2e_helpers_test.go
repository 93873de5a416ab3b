//go:build e2e || reliability

package test

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// qscanBin is the binary under test (make e2e sets QSCAN_BIN).
func qscanBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("QSCAN_BIN"); b != "" {
		return b
	}
	b := filepath.Join(t.TempDir(), "qscan")
	out, err := exec.Command("go", "build", "-o", b, "../cmd/qscan").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return b
}

// stack returns the running test stack (sendmail-in and the sink),
// starting it when possible.
func stack(t *testing.T) stackutil.Stack {
	t.Helper()
	return stackutil.Require(t, "sink", "sendmail")
}

// clean empties the stack's queues and sink, so tests do not see each
// other's mail.
func clean(t *testing.T, s stackutil.Stack) {
	t.Helper()
	if err := s.Empty(); err != nil {
		t.Fatal(err)
	}
}

// cfgOpts vary the test configuration.
type cfgOpts struct {
	noKick      bool
	maxMessages int
	clamd       bool   // scan with the stack's clamd instead of the built-in engine
	retry       string // retry_min and retry_max of held messages; default 1s, 2s
	extra       string // more sections
}

// writeConfig writes a qscan configuration for the stack's queues.
func writeConfig(t *testing.T, s stackutil.Stack, o cfgOpts) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`[queue]
incoming = %q
outgoing = %q
work_dir = "work"
pid_file = "work/qscan.pid"
rescan_interval = "2s"
kick = %t
sendmail = "/usr/sbin/sendmail"
sendmail_args = ["-C", %q]
[batch]
max_messages = %d
retry_min = %q
retry_max = %q
[quarantine]
dir = "quarantine"
[store]
path = "work/qscan.db"
[headers]
org_name = "E2E"
[log]
level = "info"
%s
%s`, s.Incoming, s.Outgoing, !o.noKick, s.CF, max(o.maxMessages, 1), cmp.Or(o.retry, "1s"), cmp.Or(o.retry, "2s"), virusSection(s, o.clamd), o.extra)
	p := filepath.Join(dir, "qscan.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func virusSection(s stackutil.Stack, clamd bool) string {
	if clamd {
		return fmt.Sprintf("[virus]\nscanners = [\"clamd\"]\n[virus.clamd]\nsocket = %q\n", s.ClamdSocket)
	}
	return "[virus]\nscanners = [\"builtin\"]\n[virus.builtin]\nsignatures = \"\"\n"
}

// daemon is a running `qscan run`.
type daemon struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func startDaemon(t *testing.T, bin, cfg string, logBuf *bytes.Buffer) *daemon {
	t.Helper()
	cmd := exec.Command(bin, "run", "-c", cfg)
	cmd.Stderr = logBuf
	cmd.Stdout = logBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &daemon{cmd: cmd, log: logBuf}
}

func (d *daemon) kill() {
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	d.cmd.Wait()
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("qscan run exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		d.kill()
		t.Error("qscan run did not stop on SIGTERM")
	}
}

// message builds test message n: a varied, deterministic mix (plain text,
// 8-bit, multipart with attachments, long folded headers, dot lines).
func message(n int, tag string) (msgID string, raw []byte) {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	msgID = fmt.Sprintf("<%s-%d@e2e.example>", tag, n)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender %d <sender%d@example.org>\nTo: rcpt%d@example.test\n", n, n, n%7)
	fmt.Fprintf(&b, "Subject: e2e %s message %d\nDate: Sun, 22 Nov 2026 08:07:06 +0000\nMessage-ID: %s\n", tag, n, msgID)
	if n%5 == 0 {
		b.WriteString("X-Long: " + strings.Repeat("word ", 100) + "\n\t" + strings.Repeat("more ", 100) + "\n")
	}
	b.WriteString("MIME-Version: 1.0\n")
	switch n % 4 {
	case 0, 1:
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		for i := 0; i < 3+r.IntN(40); i++ {
			fmt.Fprintf(&b, "Line %d of message %d: caf\xc3\xa9 na\xc3\xafve %x\n", i, n, r.Uint64())
		}
		b.WriteString(".\n..leading dots survive\n")
	default:
		bd := fmt.Sprintf("b-%d", n)
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\n\n--%s\nContent-Type: text/plain\n\nsee attachment\n--%s\n", bd, bd, bd)
		fmt.Fprintf(&b, "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"data%d.bin\"\nContent-Transfer-Encoding: base64\n\n", n)
		data := make([]byte, 200+r.IntN(20000))
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		enc := base64Lines(data)
		b.WriteString(enc)
		fmt.Fprintf(&b, "--%s--\n", bd)
	}
	return msgID, b.Bytes()
}
