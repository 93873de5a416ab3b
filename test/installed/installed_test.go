//go:build e2e

package installed

import (
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestInstalled runs qscan as a postmaster does, in order: the installer's
// layout, the shipped configuration, a start by the init script as user
// qscan, SMTP mail picked up at once and delivered or kept as the shipped
// defaults say, and the cron health check restarting a dead daemon.
func TestInstalled(t *testing.T) {
	tr := setUp(t)
	t.Run("Layout", tr.testLayout)
	t.Run("ShippedConfig", tr.testShippedConfig)
	var pid int
	var started time.Time
	if !t.Run("InitScriptStart", func(t *testing.T) {
		started = time.Now()
		pid = tr.start(t)
		tr.checkRunsAsQscan(t, pid, "/etc/init.d/qscan start")
	}) || pid == 0 {
		return // not started, or InitScriptStart left out by -run
	}
	// The first message goes in right after the start: see testPickup.
	t.Run("SMTPPickup", func(t *testing.T) { tr.testPickup(t, started) })
	t.Run("InitScriptLeavesNothingOfRoot", tr.testNothingOfRoot)
	t.Run("Mail", tr.testMail)
	t.Run("CronRestart", func(t *testing.T) { tr.testCronRestart(t, pid) })
}

// testLayout: what the installer made, with the owners and modes a server
// gets (the private root stands for /).
func (tr *tree) testLayout(t *testing.T) {
	want := []struct {
		path, user, group string
		mode              uint32
	}{
		{"/usr/sbin/qscan", "root", "root", 0o755},
		{"/etc/qscan", "root", "qscan", 0o750},
		{"/etc/qscan/qscan.toml", "root", "qscan", 0o640},
		{"/etc/init.d/qscan", "root", "root", 0o755},
		{"/etc/cron.d/qscan", "root", "root", 0o644},
		// sendmail's queues, made group-writable for group smmsp.
		{"/var/spool/mqueue", "smmta", "smmsp", 0o2770},
		{"/var/spool/mqueue.in", "smmta", "smmsp", 0o2770},
		{"/var/spool/qscan/work", "qscan", "qscan", 0o700},
		{"/var/spool/qscan/quarantine", "qscan", "qscan", 0o700},
		{"/var/lib/qscan", "qscan", "qscan", 0o750},
		{"/var/log/qscan", "qscan", "qscan", 0o750},
	}
	for _, w := range want {
		got, err := ownerOf(tr.path(w.path))
		if err != nil {
			t.Error(err)
			continue
		}
		u, err1 := user.Lookup(w.user)
		g, err2 := user.LookupGroup(w.group)
		if err1 != nil || err2 != nil {
			t.Fatalf("look up %s:%s: %v %v", w.user, w.group, err1, err2)
		}
		if strconv.Itoa(got.uid) != u.Uid || strconv.Itoa(got.gid) != g.Gid || got.mode != w.mode {
			t.Errorf("%s: uid %d gid %d mode %#o, want %s:%s %#o", w.path, got.uid, got.gid, got.mode, w.user, w.group, w.mode)
		}
	}
	u, err := user.Lookup("qscan")
	if err != nil {
		t.Fatal(err)
	}
	smmsp, err := user.LookupGroup("smmsp")
	if err != nil {
		t.Fatal(err)
	}
	if groups, err := u.GroupIds(); err != nil || !slices.Contains(groups, smmsp.Gid) {
		t.Errorf("user qscan's groups %v (%v): want smmsp (%s), for the queues", groups, err, smmsp.Gid)
	}
}

// pickupBound is how soon a message received over SMTP must be in the
// outgoing queue.
//
// This is not a timing assertion but a behavioural one: qscan either
// picks a message up from the file system event sendmail's queueing
// causes (milliseconds; the bound leaves a slow shared machine ample
// room), or it waits for the next full rescan, every 30 s with the
// shipped rescan_interval. The bound is a third of that, and the
// messages are sent right after the start, so no rescan falls in the
// window: within the bound means "event-driven", beyond it means "waited
// for the rescan".
const pickupBound = 10 * time.Second

// pickupMessages are sent one after the other, each once the previous
// one is through: a qscan that skips a message sendmail still has locked
// can be lucky once (sendmail let go before qscan looked), hardly thrice.
var pickupMessages = []string{"clean", "clean-2", "clean-3"}

// testPickup: the first messages after the start, sent over SMTP, reach
// the outgoing queue without waiting for the rescan.
func (tr *tree) testPickup(t *testing.T, started time.Time) {
	rescan, err := tr.cfg.rescan()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range pickupMessages {
		m := tr.cleanMail(kind)
		tr.submit(t, m)
		tr.cleanSent = append(tr.cleanSent, m)
		if since := time.Since(started); since >= rescan-pickupBound {
			t.Skipf("%s went in %v after the start: a %v rescan could fall within %v of it; cannot tell", m.id, since, rescan, pickupBound)
		}
		if err := tr.waitOutgoing(m, pickupBound); err != nil {
			t.Fatalf("received over SMTP, not picked up within %v with rescan_interval %v (waited for the rescan?): %v",
				pickupBound, rescan, err)
		}
	}
}

// testMail: the clean messages (sent by testPickup), an infected one and
// GTUBE, all over SMTP, end as the shipped defaults say once the outgoing
// queue has run.
func (tr *tree) testMail(t *testing.T) {
	virus, spam := tr.virusMail(), tr.spamMail()
	tr.submit(t, virus)
	tr.submit(t, spam)
	// Generous: this is not about the pick-up latency (testPickup is).
	if err := tr.waitIncomingEmpty(2 * time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, tr.logTail())
	}
	if err := stackutil.Flush(); err != nil {
		t.Error(err)
	}
	for _, m := range tr.cleanSent {
		tr.checkClean(t, m)
	}
	tr.checkVirus(t, virus)
	tr.checkSpam(t, spam)
	tr.checkReport(t, virus)
	if t.Failed() {
		t.Log(tr.logTail())
	}
}

// testNothingOfRoot: the daemon the init script started (as user qscan)
// made nothing in qscan's directories that root owns.
func (tr *tree) testNothingOfRoot(t *testing.T) {
	found, err := tr.rootOwned()
	if err != nil {
		t.Error(err)
	}
	tr.rootOwnedAtStart = found
	if len(found) > 0 {
		t.Errorf("root-owned files in qscan's directories after /etc/init.d/qscan start:\n%s", strings.Join(found, "\n"))
	}
}

// testCronRestart: qscan dies; root's cron job `qscan check --restart`
// starts it again as user qscan, leaving nothing of root's in qscan's
// directories, and the next start by the init script works.
func (tr *tree) testCronRestart(t *testing.T, pid int) {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill qscan (pid %d): %v", pid, err)
	}
	// Until its parent (init) has reaped it, the pid stays taken.
	if err := stackutil.Poll(30*time.Second, func() (bool, error) { return !exists(pid), nil }); err != nil {
		t.Fatalf("qscan (pid %d) still there after SIGKILL", pid)
	}
	j, err := findCronJob(tr.path("/etc/cron.d/qscan"), "check --restart")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runAsCron(j)
	t.Logf("cron job %q: %v\n%s", j.command, err, out)
	restarted, err := tr.waitReady(30 * time.Second)
	if err != nil {
		t.Fatalf("qscan check --restart did not start qscan: %v\n%s", err, tr.logTail())
	}
	tr.checkRunsAsQscan(t, restarted, "qscan check --restart from root's cron")
	m := tr.cleanMail("after-check")
	tr.submit(t, m)
	if err := tr.waitOutgoing(m, 90*time.Second); err != nil {
		t.Errorf("daemon started by qscan check --restart: %v\n%s", err, tr.logTail())
	}
	tr.stop(t)
	found, err := tr.rootOwned()
	if err != nil {
		t.Error(err)
	}
	// What root's init script leaves by design (its stop marker) and what
	// InitScriptLeavesNothingOfRoot reports already do not count here.
	found = slices.DeleteFunc(found, func(p string) bool {
		return p == tr.cfg.Check.OffFile || slices.Contains(tr.rootOwnedAtStart, p)
	})
	if len(found) > 0 {
		t.Errorf("root-owned files in qscan's directories after qscan check --restart:\n%s", strings.Join(found, "\n"))
	}
	// The next start by the init script, as user qscan, must work in what
	// the restarted daemon left.
	pid = tr.start(t)
	tr.checkRunsAsQscan(t, pid, "/etc/init.d/qscan start after the check")
	m = tr.cleanMail("next-start")
	tr.submit(t, m)
	if err := tr.waitOutgoing(m, 90*time.Second); err != nil {
		t.Errorf("qscan started by the init script after the check: %v\n%s", err, tr.logTail())
	}
	tr.stop(t)
}
