//go:build e2e || reliability

package test

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/test/stackutil"
)

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
