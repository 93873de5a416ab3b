//go:build e2e

package installed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// servicePath is the PATH service(8) gives an init script.
const servicePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// detached runs a command as cron or service(8) would: a clean
// environment, a session of its own (what it starts outlives it), no
// terminal, bounded in time. It returns the combined output.
func detached(env []string, dir string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A daemon that kept the output pipe open must not hang the test.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// initScript runs the installed /etc/init.d/qscan with an action.
func (tr *tree) initScript(action string) (string, error) {
	return detached([]string{servicePath, "LANG=C"}, "/", tr.path("/etc/init.d/qscan"), action)
}

// start starts qscan with the installed init script and waits until it
// runs; it returns the daemon's pid.
func (tr *tree) start(t *testing.T) int {
	t.Helper()
	out, err := tr.initScript("start")
	if err != nil || !strings.Contains(out, "Started qscan") {
		t.Fatalf("/etc/init.d/qscan start: %v\n%s\n%s", err, out, tr.logTail())
	}
	pid, err := tr.waitReady(30 * time.Second)
	if err != nil {
		t.Fatalf("/etc/init.d/qscan start said %q, but: %v\n%s", strings.TrimSpace(out), err, tr.logTail())
	}
	return pid
}

// stop stops qscan with the installed init script.
func (tr *tree) stop(t *testing.T) {
	t.Helper()
	if out, err := tr.initScript("stop"); err != nil {
		t.Errorf("/etc/init.d/qscan stop: %v\n%s", err, out)
	}
	if pids := tr.pids(); len(pids) > 0 {
		t.Errorf("qscan still running after /etc/init.d/qscan stop: pids %v", pids)
	}
}

// waitReady waits for a live daemon behind the pid file that has written
// its status file (it does so once its queue watch runs).
func (tr *tree) waitReady(timeout time.Duration) (int, error) {
	pid := 0
	err := stackutil.Poll(timeout, func() (bool, error) {
		b, err := os.ReadFile(tr.cfg.Queue.PidFile)
		if err != nil {
			return false, nil
		}
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if pid <= 0 || !tr.ours(pid) {
			return false, nil
		}
		var st struct {
			PID int `json:"pid"`
		}
		b, err = os.ReadFile(filepath.Join(tr.cfg.Queue.WorkDir, "status.json"))
		return err == nil && json.Unmarshal(b, &st) == nil && st.PID == pid, nil
	})
	if err != nil {
		return 0, fmt.Errorf("qscan not running with a fresh status file (pid file %s, pid %d): %w", tr.cfg.Queue.PidFile, pid, err)
	}
	return pid, nil
}

// ours reports whether pid runs the installed binary: only this test runs
// it (its path is in the private root).
func (tr *tree) ours(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && strings.TrimSuffix(exe, " (deleted)") == tr.bin
}

// exists reports whether pid is taken, by a live process or a zombie.
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// pids returns the processes running the installed binary.
func (tr *tree) pids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && tr.ours(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopAll stops whatever this test started: the init script first, then
// SIGKILL for a daemon it does not know (one started by the health check
// with another pid file, say).
func (tr *tree) stopAll(t *testing.T) {
	if len(tr.pids()) == 0 {
		return
	}
	tr.initScript("stop")
	for _, pid := range tr.pids() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := stackutil.Poll(10*time.Second, func() (bool, error) { return len(tr.pids()) == 0, nil }); err != nil {
		t.Errorf("qscan processes left running: %v", tr.pids())
	}
}

// ids is a process's real and effective user and group, and its groups.
type ids struct {
	uid, euid, gid, egid int
	groups               []int
}

func procIDs(pid int) (ids, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ids{}, err
	}
	var p ids
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		f := strings.Fields(v)
		switch {
		case k == "Uid" && len(f) >= 2:
			p.uid, _ = strconv.Atoi(f[0])
			p.euid, _ = strconv.Atoi(f[1])
		case k == "Gid" && len(f) >= 2:
			p.gid, _ = strconv.Atoi(f[0])
			p.egid, _ = strconv.Atoi(f[1])
		case k == "Groups":
			for _, g := range f {
				n, _ := strconv.Atoi(g)
				p.groups = append(p.groups, n)
			}
		}
	}
	return p, nil
}

// checkRunsAsQscan fails unless pid runs as user and group qscan.
func (tr *tree) checkRunsAsQscan(t *testing.T, pid int, how string) {
	t.Helper()
	p, err := procIDs(pid)
	if err != nil {
		t.Errorf("%s: pid %d: %v", how, pid, err)
		return
	}
	if p.uid != tr.uid || p.euid != tr.uid || p.gid != tr.gid || p.egid != tr.gid {
		t.Errorf("%s: qscan (pid %d) runs as uid %d/%d gid %d/%d, want user qscan (uid %d gid %d)",
			how, pid, p.uid, p.euid, p.gid, p.egid, tr.uid, tr.gid)
	}
}

// qscanDirs are the directories where qscan writes: the installer or the
// init script makes them qscan's, and nothing in them may be root's.
func (tr *tree) qscanDirs() []string {
	return []string{tr.cfg.Queue.WorkDir, tr.cfg.Quarantine.Dir, filepath.Dir(tr.cfg.Store.Path),
		filepath.Dir(tr.cfg.Queue.PidFile), tr.path("/var/log/qscan")}
}

// rootOwned lists what user or group root owns in qscan's directories.
func (tr *tree) rootOwned() ([]string, error) {
	var found []string
	for _, d := range tr.qscanDirs() {
		err := filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			o, err := ownerOf(p)
			if err == nil && (o.uid == 0 || o.gid == 0) {
				found = append(found, p)
			}
			return err
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return found, err
		}
	}
	return found, nil
}

// logTail returns the end of qscan's logs: the init script's and the one
// a daemon started by the health check writes.
func (tr *tree) logTail() string {
	var b bytes.Buffer
	for _, p := range []string{tr.path("/var/log/qscan/qscan.log"), filepath.Join(tr.cfg.Queue.WorkDir, "qscan.log")} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "--- %s (last lines):\n%s\n", p, strings.Join(lines[max(0, len(lines)-20):], "\n"))
	}
	return b.String()
}
