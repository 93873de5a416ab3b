package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var qscanBin string

// TestMain builds the binary once for the tests that run it as a process.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "qscan-cmd-test-")
	if err != nil {
		panic(err)
	}
	qscanBin = filepath.Join(dir, "qscan")
	if out, err := exec.Command("go", "build", "-o", qscanBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demo lays out a demo tree (queues, quarantine) with a configuration.
func demo(t *testing.T, extra string) (root, cfg string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"in", "out", "quarantine"} {
		os.Mkdir(filepath.Join(root, d), 0o700)
	}
	cfg = filepath.Join(root, "qscan.toml")
	writeCfg(t, cfg, extra)
	return root, cfg
}

func writeCfg(t *testing.T, cfg, extra string) {
	t.Helper()
	s := "[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"work\"\npid_file = \"work/qscan.pid\"\nrescan_interval = \"1s\"\n" +
		"[quarantine]\ndir = \"quarantine\"\n[store]\npath = \"work/qscan.db\"\n[virus]\nscanners = [\"builtin\"]\n[virus.builtin]\nsignatures = \"\"\n" + extra
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func qscan(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(qscanBin, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestLint(t *testing.T) {
	_, cfg := demo(t, "[spam]\nengines = []\n") // lint tests the engines: builtin only
	if out, code := qscan(t, "lint", "-c", cfg); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("lint of a good config = %d %q", code, out)
	}
	writeCfg(t, cfg, "[batch]\nmax_messages = -1\n[log]\nlevel = \"loud\"\nformat = \"xml\"\n[bogus]\n")
	out, code := qscan(t, "lint", "-c", cfg)
	if code != exitConfig {
		t.Errorf("lint of a bad config exit = %d, want %d", code, exitConfig)
	}
	for _, want := range []string{cfg + ":16: batch.max_messages", cfg + ":18: log.level", cfg + ":19: log.format", cfg + ":20: unknown section [bogus]"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
}

func TestEnqueueRunOnce(t *testing.T) {
	root, cfg := demo(t, "")
	out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", "-r", "c@example.test",
		"--client-ip", "2001:db8::5", "../../testdata/eml/plain.eml")
	if code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	id := strings.TrimSpace(out)
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once: %d %s", code, out)
	}
	qf, err := os.ReadFile(filepath.Join(root, "out", "qf"+id))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"$_localhost [IPv6:2001:db8::5]", "RPFD:<c@example.test>", "H??X-yoursite-QScan: Found to be clean"} {
		if !strings.Contains(string(qf), want) {
			t.Errorf("outgoing qf lacks %q:\n%s", want, qf)
		}
	}
}

func TestScan(t *testing.T) {
	_, cfg := demo(t, "")
	out := filepath.Join(t.TempDir(), "out.eml")
	res, code := qscan(t, "scan", "-c", cfg, "--json", "-o", out, "../../testdata/eml/plain.eml")
	if code != 0 || !strings.Contains(res, `"verdict":"clean"`) {
		t.Errorf("scan = %d %s", code, res)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Contains(b, []byte("X-yoursite-QScan: Found to be clean\n")) || !bytes.HasSuffix(b, []byte("this is a plain message.\n")) {
		t.Errorf("scan -o wrote:\n%s", b)
	}
}

// TestDaemonSignals: SIGHUP with a broken configuration keeps the running
// one; SIGHUP with a good one applies it; SIGTERM stops cleanly and
// removes the pid file; a second daemon refuses the same pid file.
func TestDaemonSignals(t *testing.T) {
	root, cfg := demo(t, "[headers]\norg_name = \"First\"\n")
	var log bytes.Buffer
	cmd := exec.Command(qscanBin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pidFile := filepath.Join(root, "work", "qscan.pid")
	waitFile(t, pidFile)
	if out, code := qscan(t, "run", "-c", cfg); code == 0 || !strings.Contains(out, "already running") {
		t.Errorf("second daemon = %d %q, want refusal", code, out)
	}
	deliver := func(name string) string {
		out, _ := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml")
		qf := filepath.Join(root, "out", "qf"+strings.TrimSpace(out))
		waitFile(t, qf)
		b, _ := os.ReadFile(qf)
		return string(b)
	}
	if qf := deliver("first"); !strings.Contains(qf, "X-First-QScan: Found to be clean") {
		t.Errorf("first message lacks X-First-QScan:\n%s", qf)
	}
	writeCfg(t, cfg, "[headers]\norg_name = \"Second\"\nbogus = 1\n")
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if qf := deliver("after bad reload"); !strings.Contains(qf, "X-First-QScan") {
		t.Errorf("a broken config was applied:\n%s", qf)
	}
	writeCfg(t, cfg, "[headers]\norg_name = \"Second\"\n")
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if qf := deliver("after good reload"); !strings.Contains(qf, "X-Second-QScan") {
		t.Errorf("reload not applied:\n%s", qf)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon exit: %v\n%s", err, log.String())
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Error("pid file left after SIGTERM")
	}
	for _, want := range []string{"reload rejected", "unknown key \"headers.bogus\"", "configuration reloaded", "qscan stopped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func waitFile(t *testing.T, p string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(p); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", p)
}

// TestDaemonMetricsAndCleaning: an EICAR attachment is replaced and the
// original quarantined; the metrics endpoint shows the counters and the
// per-stage timings move.
func TestDaemonMetricsAndCleaning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root, cfg := demo(t, fmt.Sprintf("[metrics]\nlisten = %q\n", addr))
	var log bytes.Buffer
	cmd := exec.Command(qscanBin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitFile(t, filepath.Join(root, "work", "qscan.pid"))
	eml := filepath.Join(t.TempDir(), "eicar.eml")
	os.WriteFile(eml, []byte("From: a@example.org\nTo: b@example.test\nSubject: eicar\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/mixed; boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nhello\n--BB\n"+
		"Content-Type: application/octet-stream; name=\"eicar.com\"\n\n"+
		`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n--BB--\n"), 0o600)
	out, _ := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", eml)
	id := strings.TrimSpace(out)
	waitFile(t, filepath.Join(root, "out", "qf"+id))
	df, _ := os.ReadFile(filepath.Join(root, "out", "df"+id))
	if bytes.Contains(df, []byte("EICAR-STANDARD")) || !bytes.Contains(df, []byte("hello\n")) {
		t.Errorf("delivered body still holds EICAR or lost the text part:\n%s", df)
	}
	metas, _ := filepath.Glob(filepath.Join(root, "quarantine", "*", id, "metadata.json"))
	if len(metas) != 1 {
		t.Errorf("no quarantine entry for %s", id)
	}
	// The counters move just after the commit that made the qf appear.
	var body []byte
	for i := 0; i < 100; i++ {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(body, []byte(`qscan_messages_total{action="cleaned"`)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`qscan_messages_total{action="cleaned",verdict="infected"} 1`,
		`qscan_viruses_total{name="Eicar-Test-Signature"} 1`,
		`qscan_stage_duration_seconds_count{stage="virus"} 1`,
		`qscan_stage_duration_seconds_count{stage="explode"} 1`,
		`qscan_quarantined_total{kind="parts"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestBlockedFilenameNotices: a blocked .exe is replaced, the subject
// tagged, and the sender gets a notice (MailScanner's default for blocked
// filenames); a virus gets no sender notice (backscatter).
func TestBlockedFilenameNotices(t *testing.T) {
	root, cfg := demo(t, "[spam]\nengines = []\n")
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe.eml")
	os.WriteFile(exe, []byte("From: a@example.org\nTo: b@example.test\nSubject: tool\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/mixed; boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nhello\n--BB\n"+
		"Content-Type: application/octet-stream; name=\"setup.exe\"\n\nMZ not really\n--BB--\n"), 0o600)
	out, _ := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", exe)
	id := strings.TrimSpace(out)
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once: %d %s", code, out)
	}
	qf, _ := os.ReadFile(filepath.Join(root, "out", "qf"+id))
	if !strings.Contains(string(qf), "H??Subject: {Filename?} tool") {
		t.Errorf("subject not tagged:\n%s", qf)
	}
	var notices int
	m, _ := filepath.Glob(filepath.Join(root, "out", "qf*"))
	for _, f := range m {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "RPFD:<a@example.org>") && strings.Contains(string(b), "\nS<>\n") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("%d sender notices, want 1", notices)
	}
}

// TestCheck: `qscan check` is silent when the daemon runs, reports a dead
// daemon and a stalled queue, and --restart starts the daemon again.
func TestCheck(t *testing.T) {
	root, cfg := demo(t, "[spam]\nengines = []\n[check]\nqueue_max_age = \"10m\"\nmin_free_percent = -1.0\nmin_free_bytes = 0\noff_file = \"\"\n")
	out, code := qscan(t, "check", "-c", cfg)
	if code != 1 || !strings.Contains(out, "not running") {
		t.Errorf("check without a daemon = %d %q", code, out)
	}
	// A message stuck in the queue (as if nothing took it for an hour).
	old := time.Now().Add(-time.Hour)
	os.WriteFile(filepath.Join(root, "in", "qf6AM876nc009999"), []byte("V8\n"), 0o600)
	os.Chtimes(filepath.Join(root, "in", "qf6AM876nc009999"), old, old)
	out, _ = qscan(t, "check", "-c", cfg)
	if !strings.Contains(out, "6AM876nc009999") {
		t.Errorf("check does not report the stalled message:\n%s", out)
	}
	os.Remove(filepath.Join(root, "in", "qf6AM876nc009999"))
	out, code = qscan(t, "check", "--restart", "-c", cfg)
	if !strings.Contains(out, "qscan started") {
		t.Fatalf("check --restart = %d %q", code, out)
	}
	pidFile := filepath.Join(root, "work", "qscan.pid")
	waitFile(t, pidFile)
	b, _ := os.ReadFile(pidFile)
	var pid int
	fmt.Sscan(string(b), &pid)
	defer syscall.Kill(pid, syscall.SIGTERM)
	waitFile(t, filepath.Join(root, "work", "status.json"))
	if out, code := qscan(t, "check", "-c", cfg); code != 0 || out != "" {
		t.Errorf("check with the daemon running = %d %q", code, out)
	}
}
