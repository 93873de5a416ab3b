//go:build reliability

package reliability

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// qscanBin returns the binary under test: $QSCAN_BIN, else a fresh build.
func qscanBin(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("QSCAN_BIN"); b != "" {
		return b
	}
	b := filepath.Join(t.TempDir(), "qscan")
	out, err := exec.Command("go", "build", "-o", b, "../../cmd/qscan").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return b
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
	work := cmp.Or(c.workDir, "work")
	var b strings.Builder
	fmt.Fprintf(&b, "[queue]\nincoming = %q\noutgoing = %q\nwork_dir = %q\npid_file = %q\n", c.incoming, c.outgoing, work, filepath.Join(work, "qscan.pid"))
	fmt.Fprintf(&b, "rescan_interval = \"2s\"\nkick = %t\nsendmail = \"/usr/sbin/sendmail\"\n", c.kick)
	if c.sendmailCF != "" {
		fmt.Fprintf(&b, "sendmail_args = [\"-C\", %q]\n", c.sendmailCF)
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = 6
	}
	retryMin, retryMax := cmp.Or(c.retry, "1s"), cmp.Or(c.retry, "2s")
	fmt.Fprintf(&b, "[batch]\nmax_messages = %d\nretry_min = %q\nretry_max = %q\nmessage_timeout = %q\nmax_attempts = %d\n",
		max(c.maxMessages, 1), retryMin, retryMax, cmp.Or(c.messageTimeout, "30s"), c.maxAttempts)
	fmt.Fprintf(&b, "[quarantine]\ndir = %q\n[store]\npath = %q\n[headers]\norg_name = \"Rel\"\n", c.quarantine, filepath.Join(work, "qscan.db"))
	b.WriteString("[log]\nlevel = \"info\"\nformat = \"json\"\n[metrics]\nlisten = \"\"\n")
	fmt.Fprintf(&b, "[notify]\npostmaster = %q\n", c.postmaster)
	b.WriteString(virusSection(c))
	if c.spamd == "" {
		b.WriteString("[spam]\nengines = []\n")
	} else {
		fmt.Fprintf(&b, "[spam]\nengines = [\"spamd\"]\npause = \"10s\"\n[spam.spamd]\naddress = %q\ntimeout = \"5s\"\n", c.spamd)
	}
	b.WriteString(c.extra)
	p := filepath.Join(dir, "qscan.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.quarantine, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func virusSection(c cfg) string {
	switch {
	case c.clamd == "":
		return "[virus]\nscanners = [\"builtin\"]\n[virus.builtin]\nsignatures = \"\"\n"
	case strings.HasPrefix(c.clamd, "/"):
		return fmt.Sprintf("[virus]\nscanners = [\"clamd\"]\n[virus.clamd]\nsocket = %q\ntimeout = %q\n", c.clamd, c.clamdTimeout)
	default:
		return fmt.Sprintf("[virus]\nscanners = [\"clamd\"]\n[virus.clamd]\nsocket = \"\"\naddress = %q\ntimeout = %q\n", c.clamd, c.clamdTimeout)
	}
}

// daemon is a running `qscan run`; its log goes to a file, kept after the
// test in $REL_LOGS (default /tmp/qscan-rel-logs) for post-mortems.
type daemon struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, set before done is closed
}

func logPath(t testing.TB, name string) string {
	dir := os.Getenv("REL_LOGS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "qscan-rel-logs")
	}
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log")
}

// startDaemon runs `qscan run -c cfgPath`, appending its output to logFile.
func startDaemon(t testing.TB, bin, cfgPath, logFile string) *daemon {
	t.Helper()
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-c", cfgPath)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logPath: logFile, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		f.Close()
		close(d.done)
	}()
	return d
}

// kill sends SIGKILL to qscan alone: the sendmail kicks it started go on,
// as they would after a real crash.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM and waits for the batch in hand to finish.
func (d *daemon) stop(t testing.TB) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			t.Errorf("qscan run exited with %v", d.err)
		}
	case <-time.After(60 * time.Second):
		d.kill()
		t.Error("qscan run did not stop within 60 s of SIGTERM")
	}
}

// alive reports whether the daemon is still running.
func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// logEntry is one line of qscan's JSON log.
type logEntry struct {
	Time  time.Time      `json:"-"`
	Level string         `json:"level"`
	Msg   string         `json:"msg"`
	Raw   string         `json:"-"`
	F     map[string]any `json:"-"`
}

// readLog parses a JSON log file; lines that are not JSON are kept as Msg.
func readLog(path string) []logEntry {
	data, _ := os.ReadFile(path)
	var out []logEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		e := logEntry{Raw: line}
		var f map[string]any
		if json.Unmarshal([]byte(line), &f) == nil {
			e.F = f
			e.Level, _ = f["level"].(string)
			e.Msg, _ = f["msg"].(string)
			if ts, ok := f["time"].(string); ok {
				e.Time, _ = time.Parse(time.RFC3339Nano, ts)
			}
		} else {
			e.Msg = line
		}
		out = append(out, e)
	}
	return out
}

// num returns a numeric field of a log entry.
func (e logEntry) num(k string) float64 {
	v, _ := e.F[k].(float64)
	return v
}

// batchTimes returns the duration of every "batch done" line.
func batchTimes(entries []logEntry) []time.Duration {
	var out []time.Duration
	for _, e := range entries {
		if e.Msg == "batch done" {
			out = append(out, time.Duration(e.num("ms"))*time.Millisecond)
		}
	}
	return out
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// grepLog returns the log lines containing s.
func grepLog(entries []logEntry, s string) []string {
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Raw, s) {
			out = append(out, e.Raw)
		}
	}
	return out
}

// count returns how many files in dir match the glob pattern.
func count(dir, pattern string) int {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m)
}

// waitUntil polls cond every 50 ms until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
