//go:build reliability

package reliability

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// scale holds the sizes of one run: REL_SCALE=full (make reliability) or
// short (CI).
type scale struct {
	name        string
	crashMsgs   int // messages drained under SIGKILL
	crashKills  int // kills at least
	loadMsgs    int // messages offered by SMTP in the load test
	loadConns   int // parallel SMTP connections
	diskMsgs    int // messages in the full-disk test
	engineMsgs  int // messages per engine fault
	outage      time.Duration
	bigFactor   int // divides the sizes of the generated hostile inputs
	poisonTries int
}

func relScale() scale {
	if os.Getenv("REL_SCALE") == "short" {
		return scale{name: "short", crashMsgs: 200, crashKills: 10, loadMsgs: 1000, loadConns: 4,
			diskMsgs: 30, engineMsgs: 20, outage: 6 * time.Second, bigFactor: 10, poisonTries: 3}
	}
	return scale{name: "full", crashMsgs: 2000, crashKills: 50, loadMsgs: 20000, loadConns: 8,
		diskMsgs: 60, engineMsgs: 60, outage: 12 * time.Second, bigFactor: 1, poisonTries: 3}
}

// requireStack returns the running stack with the named components,
// started when needed (root).
func requireStack(t *testing.T, components ...string) stackutil.Stack {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the reliability suite needs root (stack, signals, tmpfs)")
	}
	return stackutil.Require(t, components...)
}

// emptyStack empties the stack's queues and sink, so tests do not see each
// other's mail.
func emptyStack(t *testing.T, s stackutil.Stack) {
	t.Helper()
	if err := s.Empty(); err != nil {
		t.Fatal(err)
	}
}

// cfg varies the qscan configuration of a test.
type cfg struct {
	incoming, outgoing string
	quarantine         string // default: <dir>/quarantine
	kick               bool
	sendmailCF         string // -C for the kick
	maxMessages        int
	maxAttempts        int    // default 6
	clamd              string // "host:port", "/socket", or "" for the built-in engine
	clamdTimeout       string
	spamd              string // spamd address; "" for no spam checks
	postmaster         string
	extra              string
	workDir            string // work dir, store and pid file; default "work" beside the config
	messageTimeout     string // default "30s"
	retry              string // retry_min and retry_max; default 1s and 2s
}

// writeConfig writes a qscan configuration into a fresh directory (work
// dir, store and, by default, quarantine beside it) and returns its path.
func writeConfig(t testing.TB, c cfg) string {
	t.Helper()
	dir := t.TempDir()
	if c.quarantine == "" {
		c.quarantine = filepath.Join(dir, "quarantine")
	}
	p, err := relConfig(c).Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.quarantine, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// relConfig is the configuration of the reliability tests: JSON logs, no
// metrics listener, short retries, the built-in engine with its EICAR
// signature or clamd, spamd or no spam checks.
func relConfig(c cfg) stackutil.Config {
	rc := stackutil.Config{Incoming: c.incoming, Outgoing: c.outgoing, WorkDir: cmp.Or(c.workDir, "work"), Quarantine: c.quarantine,
		RescanInterval: "2s", Kick: c.kick, Sendmail: "/usr/sbin/sendmail",
		MaxMessages: max(c.maxMessages, 1), RetryMin: cmp.Or(c.retry, "1s"), RetryMax: cmp.Or(c.retry, "2s"),
		MessageTimeout: cmp.Or(c.messageTimeout, "30s"), MaxAttempts: cmp.Or(c.maxAttempts, 6),
		OrgName: "Rel", LogLevel: "info", LogFormat: "json", NoMetrics: true,
		Notify: &stackutil.Notify{Postmaster: c.postmaster}, Virus: []string{"builtin"}, NoSignatures: true,
		Spam: &stackutil.Spam{}, Extra: c.extra}
	if c.sendmailCF != "" {
		rc.SendmailArgs = []string{"-C", c.sendmailCF}
	}
	if c.clamd != "" {
		rc.Virus, rc.NoSignatures = []string{"clamd"}, false
		rc.Clamd = stackutil.Engine{Address: c.clamd, Timeout: c.clamdTimeout}
		if strings.HasPrefix(c.clamd, "/") {
			rc.Clamd = stackutil.Engine{Socket: c.clamd, Timeout: c.clamdTimeout}
		}
	}
	if c.spamd != "" {
		rc.Spam = &stackutil.Spam{Engines: []string{"spamd"}, Pause: spamPause.String(), Spamd: stackutil.Engine{Address: c.spamd, Timeout: "5s"}}
	}
	return rc
}

// logPath returns the log file of a test's daemon, kept after the test in
// $REL_LOGS (default /tmp/qscan-rel-logs) for post-mortems.
func logPath(t testing.TB, name string) string {
	dir := os.Getenv("REL_LOGS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "qscan-rel-logs")
	}
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log")
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// count returns how many files in dir match the glob pattern.
func count(dir, pattern string) int {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// spamPause is the suite's [spam] pause: how long spam checks rest after
// spamd failed.
const spamPause = 10 * time.Second
