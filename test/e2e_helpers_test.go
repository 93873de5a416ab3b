//go:build e2e || reliability

package test

import (
	"cmp"
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
	clamd       bool            // scan with the stack's clamd instead of the built-in engine
	retry       string          // retry_min and retry_max of held messages; default 1s, 2s
	spam        *stackutil.Spam // the [spam] section; nil: none
	extra       string          // more sections
}

// writeConfig writes a qscan configuration for the stack's queues.
func writeConfig(t *testing.T, s stackutil.Stack, o cfgOpts) string {
	t.Helper()
	p, err := e2eConfig(s, o).Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// e2eConfig is the configuration of the e2e tests: the stack's queues,
// short retries, the built-in engine with its EICAR signature or clamd.
func e2eConfig(s stackutil.Stack, o cfgOpts) stackutil.Config {
	c := stackutil.Config{Incoming: s.Incoming, Outgoing: s.Outgoing, WorkDir: "work", Quarantine: "quarantine",
		RescanInterval: "2s", Kick: !o.noKick, Sendmail: "/usr/sbin/sendmail", SendmailArgs: []string{"-C", s.CF},
		MaxMessages: max(o.maxMessages, 1), RetryMin: cmp.Or(o.retry, "1s"), RetryMax: cmp.Or(o.retry, "2s"),
		OrgName: "E2E", LogLevel: "info", Spam: o.spam, Extra: o.extra}
	if o.clamd {
		c.Virus, c.Clamd.Socket = []string{"clamd"}, s.ClamdSocket
	} else {
		c.Virus, c.NoSignatures = []string{"builtin"}, true
	}
	return c
}
