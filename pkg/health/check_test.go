package health

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = t0.Add(time.Hour)

// startProc starts argv and stops it when the test ends.
func startProc(t *testing.T, argv ...string) int {
	t.Helper()
	return startCmd(t, exec.Command(argv[0], argv[1:]...))
}

// startCmd starts cmd and stops it when the test ends.
func startCmd(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Start returns while the kernel may still be setting up the new
	// program's arguments: wait until /proc shows them.
	for range 100 {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)); len(b) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd.Process.Pid
}

// fakeQscan starts a process whose command line is "DIR/qscan ARG": a
// copy of sh named qscan, running the script file ARG (a sleep loop).
func fakeQscan(t *testing.T, arg string) int {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	b, err := os.ReadFile(sh)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "qscan")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, arg), []byte("while :; do sleep 1; done\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, arg)
	cmd.Dir = dir
	return startCmd(t, cmd)
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// env is one host as Check sees it.
type env struct {
	dir, pidFile, queue string
	pid                 int // what the pid file says
	status              Status
	writeStatus         bool
	free, total         uint64
	opts                Options
}

// addQF puts a queued message of the given age (and size) in dir.
func addQF(t *testing.T, dir, id string, age time.Duration, size int) {
	t.Helper()
	path := filepath.Join(dir, "qf"+id)
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	mt := now.Add(-age)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	qscanPid := fakeQscan(t, "run")
	purgePid := fakeQscan(t, "quarantine")
	sleepPid := startProc(t, "sleep", "60")
	gonePid := deadPid(t)

	healthy := func(t *testing.T) *env {
		dir := t.TempDir()
		e := &env{dir: dir, pidFile: filepath.Join(dir, "qscan.pid"), queue: filepath.Join(dir, "mqueue.in"),
			pid: qscanPid, writeStatus: true, free: 50 << 30, total: 100 << 30}
		e.status = Status{PID: qscanPid, Started: t0, Updated: now.Add(-10 * time.Second),
			Engines: map[string]EngineStatus{"clamd": {Up: true, Since: t0}}}
		if err := os.Mkdir(e.queue, 0o700); err != nil {
			t.Fatal(err)
		}
		addQF(t, e.queue, "6AM8Fa4W008391", 2*time.Minute, 100)
		addQF(t, e.queue, "6AM8Fa4W000001", 3*time.Hour, 0) // sendmail still writing: ignored
		os.WriteFile(filepath.Join(e.queue, "df6AM8Fa4W000002"), []byte("x"), 0o600)
		os.Chtimes(filepath.Join(e.queue, "df6AM8Fa4W000002"), t0, t0) // a df alone is not a message
		e.opts = Options{PidFile: e.pidFile, StatusDir: dir, Incoming: []string{e.queue},
			Filesystems: []string{"/var/spool"}, OffFile: filepath.Join(dir, "qscan.off")}
		return e
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		want  func(e *env) []string
	}{
		{"healthy", nil, func(*env) []string { return nil }},
		{"no pid file", func(t *testing.T, e *env) { e.pid = 0 }, func(e *env) []string {
			return []string{"qscan is not running (pid file " + e.pidFile + ": no such file)"}
		}},
		{"dead pid", func(t *testing.T, e *env) { e.pid = gonePid }, func(e *env) []string {
			return []string{fmt.Sprintf("qscan is not running (pid file %s: no such process %d)", e.pidFile, gonePid)}
		}},
		{"pid reused by another program", func(t *testing.T, e *env) { e.pid = sleepPid }, func(e *env) []string {
			return []string{fmt.Sprintf(`qscan is not running (pid file %s: pid %d is "sleep", not qscan)`, e.pidFile, sleepPid)}
		}},
		{"pid reused by another qscan command", func(t *testing.T, e *env) { e.pid = purgePid }, func(e *env) []string {
			return []string{fmt.Sprintf(`qscan is not running (pid file %s: pid %d is %q, not qscan run)`, e.pidFile, purgePid, cmdline(purgePid))}
		}},
		{"dead daemon: stale status not reported", func(t *testing.T, e *env) {
			e.pid = gonePid
			e.status.Updated = t0
			e.status.Engines["clamd"] = EngineStatus{Up: false, Since: t0}
		}, func(e *env) []string {
			return []string{fmt.Sprintf("qscan is not running (pid file %s: no such process %d)", e.pidFile, gonePid)}
		}},
		{"stopped on purpose", func(t *testing.T, e *env) {
			e.pid = gonePid
			os.WriteFile(e.opts.OffFile, nil, 0o644)
		}, func(*env) []string { return nil }},
		{"stale queue", func(t *testing.T, e *env) {
			addQF(t, e.queue, "6AM8Fa4W007777", 47*time.Minute+10*time.Second, 300)
		}, func(e *env) []string {
			return []string{"incoming queue " + e.queue + ": oldest message 6AM8Fa4W007777 is 47m old (limit 30m)"}
		}},
		{"stale queue in qf subdir", func(t *testing.T, e *env) {
			os.Mkdir(filepath.Join(e.queue, "qf"), 0o700)
			addQF(t, filepath.Join(e.queue, "qf"), "6AM8Fa4W005555", 2*time.Hour+3*time.Minute, 300)
		}, func(e *env) []string {
			return []string{"incoming queue " + e.queue + ": oldest message 6AM8Fa4W005555 is 2h3m old (limit 30m)"}
		}},
		{"too many messages", func(t *testing.T, e *env) {
			addQF(t, e.queue, "6AM8Fa4W000003", time.Minute, 10)
			e.opts.MaxQueueFiles = 2
		}, func(e *env) []string {
			return []string{"incoming queue " + e.queue + ": 2 messages or more (only the first 2 looked at)"}
		}},
		{"missing queue", func(t *testing.T, e *env) { os.RemoveAll(e.queue) }, func(e *env) []string {
			return []string{"incoming queue " + e.queue + ": open " + e.queue + ": no such file or directory"}
		}},
		{"SMTP filter refusing", func(t *testing.T, e *env) {
			e.status.Refusing = "spool: over its size limit"
			e.status.SpoolDepth = 1234
		}, func(*env) []string {
			return []string{"SMTP filter refusing mail with 451 (the MTA keeps it queued), spool 1234 messages: spool: over its size limit"}
		}},
		{"engine down past limit", func(t *testing.T, e *env) {
			e.status.Engines["clamd"] = EngineStatus{Since: now.Add(-12 * time.Minute), LastError: "connect: connection refused"}
			e.status.Held = 2
		}, func(*env) []string {
			return []string{"engine clamd down for 12m (limit 10m): connect: connection refused (2 messages held)"}
		}},
		{"engine down briefly", func(t *testing.T, e *env) {
			e.status.Engines["clamd"] = EngineStatus{Since: now.Add(-5 * time.Minute), LastError: "timeout"}
		}, func(*env) []string { return nil }},
		{"status not updated", func(t *testing.T, e *env) { e.status.Updated = now.Add(-9 * time.Minute) }, func(e *env) []string {
			return []string{fmt.Sprintf("status not updated for 9m (limit 5m): daemon pid %d stuck?", qscanPid)}
		}},
		{"batch never ends", func(t *testing.T, e *env) { e.status.BatchStarted = now.Add(-45 * time.Minute) }, func(e *env) []string {
			return []string{fmt.Sprintf("batch running for 45m (limit 30m): daemon pid %d stuck?", qscanPid)}
		}},
		{"no status file", func(t *testing.T, e *env) { e.writeStatus = false }, func(e *env) []string {
			path := filepath.Join(e.dir, StatusFile)
			return []string{fmt.Sprintf("qscan (pid %d) status unknown: health read status %s: open %s: no such file or directory", qscanPid, path, path)}
		}},
		{"disk nearly full", func(t *testing.T, e *env) { e.free, e.total = 21<<20, 1000<<20 }, func(*env) []string {
			return []string{"filesystem /var/spool: 2.1% free (limit 5%)"}
		}},
		{"disk below bytes limit", func(t *testing.T, e *env) { e.free, e.total = 100<<20, 1<<30 }, func(*env) []string {
			return []string{"filesystem /var/spool: 100 MB free (limit 500 MB)"}
		}},
		{"percent limit disabled", func(t *testing.T, e *env) {
			e.free, e.total = 600<<20, 1<<40
			e.opts.MinFreePercent = -1
		}, func(*env) []string { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := healthy(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			if e.pid != 0 {
				os.WriteFile(e.pidFile, []byte(strconv.Itoa(e.pid)+"\n"), 0o644)
			}
			if e.writeStatus {
				if err := WriteStatus(e.dir, e.status); err != nil {
					t.Fatal(err)
				}
			}
			e.opts.Statfs = func(path string) (uint64, uint64, error) { return e.free, e.total, nil }
			var got []string
			for _, p := range Check(e.opts, now) {
				got = append(got, p.Text)
			}
			if want := tt.want(e); !reflect.DeepEqual(got, want) {
				t.Errorf("Check() =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestCheckKinds: the kinds drive `qscan check --restart`.
func TestCheckKinds(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	os.WriteFile(pidFile, []byte("garbage"), 0o644)
	ps := Check(Options{PidFile: pidFile, Filesystems: []string{dir},
		Statfs: func(string) (uint64, uint64, error) { return 0, 0, errors.New("statfs: EIO") }}, now)
	want := []Problem{
		{Kind: KindNotRunning, Text: "qscan is not running (pid file " + pidFile + `: not a pid: "garbage")`},
		{Kind: KindDisk, Text: "filesystem " + dir + ": statfs: EIO"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("Check() = %+v, want %+v", ps, want)
	}

	qpid := fakeQscan(t, "run")
	os.WriteFile(pidFile, []byte(strconv.Itoa(qpid)), 0o644)
	WriteStatus(dir, Status{PID: qpid, Updated: now.Add(-time.Hour)})
	ps = Check(Options{PidFile: pidFile, StatusDir: dir}, now)
	if len(ps) != 1 || ps[0].Kind != KindStuck || ps[0].PID != qpid {
		t.Errorf("Check(stuck) = %+v, want one KindStuck with PID %d", ps, qpid)
	}

	// A pid whose state cannot be read is not reported as "not running":
	// that would start a second daemon.
	ps = Check(Options{PidFile: pidFile, ProcessInfo: func(int) (bool, []string, error) {
		return false, nil, errors.New("read /proc/1/cmdline: permission denied")
	}}, now)
	if len(ps) != 1 || ps[0].Kind != KindStatus {
		t.Errorf("Check(unreadable proc) = %+v, want one KindStatus", ps)
	}
}

// cmdline is a process's command line with spaces between arguments.
func cmdline(pid int) string {
	_, argv, _ := processInfo(pid)
	return strings.Join(argv, " ")
}

func TestProcessInfo(t *testing.T) {
	alive, argv, err := processInfo(os.Getpid())
	if err != nil || !alive || len(argv) == 0 {
		t.Errorf("processInfo(self) = %v, %q, %v", alive, argv, err)
	}
	pid := deadPid(t)
	if alive, _, err := processInfo(pid); alive || err != nil {
		t.Errorf("processInfo(dead %d) = %v, %v; want not alive", pid, alive, err)
	}
	pid = startProc(t, "sleep", "60", "1m")
	if alive, argv, err := processInfo(pid); !alive || err != nil || !reflect.DeepEqual(argv, []string{"sleep", "60", "1m"}) {
		t.Errorf("processInfo(sleep) = %v, %q, %v", alive, argv, err)
	}
}

func TestFormat(t *testing.T) {
	durs := []struct {
		in   time.Duration
		want string
	}{
		{40 * time.Second, "40s"}, {47*time.Minute + 29*time.Second, "47m"}, {2 * time.Hour, "2h"},
		{2*time.Hour + 5*time.Minute, "2h5m"}, {30 * time.Minute, "30m"}, {10 * time.Minute, "10m"},
	}
	for _, d := range durs {
		if got := dur(d.in); got != d.want {
			t.Errorf("dur(%v) = %q, want %q", d.in, got, d.want)
		}
	}
	sizes := []struct {
		in   uint64
		want string
	}{{512, "512 B"}, {500 << 20, "500 MB"}, {2254857830, "2.1 GB"}, {1536, "1.5 KB"}}
	for _, s := range sizes {
		if got := size(s.in); got != s.want {
			t.Errorf("size(%d) = %q, want %q", s.in, got, s.want)
		}
	}
	if got := oneLine("a\nb\x00c"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}
