//go:build e2e

package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// asQscan returns the credential of the real user qscan (with its groups:
// smmsp, for sendmail's queues), skipping when the test is not root or the
// user does not exist (scripts/install creates it).
func asQscan(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run qscan as user qscan")
	}
	u, err := user.Lookup("qscan")
	if err != nil {
		t.Skip("needs the user qscan (scripts/install creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	c := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	ids, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		g, _ := strconv.Atoi(id)
		c.Groups = append(c.Groups, uint32(g))
	}
	return c
}

// kickTree lays out queues as scripts/install leaves them (smmta:smmsp
// 2770, here in a scratch dir), a work dir and quarantine of user qscan's,
// and a configuration with kick = true that runs the real sendmail with
// cf, which sends to the stack's sink.
func kickTree(t *testing.T, cred *syscall.Credential, cf string) (root, cfg string) {
	t.Helper()
	root = t.TempDir()
	os.Chmod(filepath.Dir(root), 0o755)
	os.Chmod(root, 0o755)
	smmta, err := user.Lookup("smmta")
	smmsp, err2 := user.LookupGroup("smmsp")
	if err != nil || err2 != nil {
		t.Skip("needs sendmail's user smmta and group smmsp")
	}
	suid, _ := strconv.Atoi(smmta.Uid)
	sgid, _ := strconv.Atoi(smmsp.Gid)
	for _, d := range []string{"in", "out"} {
		p := filepath.Join(root, d)
		os.Mkdir(p, 0o770)
		os.Chown(p, suid, sgid)
		os.Chmod(p, 0o2770)
	}
	for _, d := range []string{"work", "quarantine"} {
		p := filepath.Join(root, d)
		os.Mkdir(p, 0o700)
		os.Chown(p, int(cred.Uid), int(cred.Gid))
	}
	cfg = filepath.Join(root, "qscan.toml")
	text := fmt.Sprintf(`[queue]
incoming = "in"
outgoing = "out"
work_dir = "work"
pid_file = "work/qscan.pid"
kick = true
sendmail = "/usr/sbin/sendmail"
sendmail_args = ["-C", %q]
[batch]
max_messages = 1
[quarantine]
dir = "quarantine"
[store]
path = "work/qscan.db"
[virus]
scanners = ["builtin"]
[virus.builtin]
signatures = ""
`, cf)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, cfg
}

// privacy writes a copy of the stack's sendmail.cf with the given
// PrivacyOptions flags, readable by user qscan.
func privacy(t *testing.T, s stackutil.Stack, dir, flags string) string {
	t.Helper()
	b, err := os.ReadFile(s.CF)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^O PrivacyOptions=.*$`)
	if !re.Match(b) {
		t.Fatalf("%s has no PrivacyOptions line", s.CF)
	}
	p := filepath.Join(dir, "sendmail-"+strings.ReplaceAll(flags, ",", "-")+".cf")
	if err := os.WriteFile(p, re.ReplaceAll(b, []byte("O PrivacyOptions="+flags)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runAs runs the qscan binary as cred and returns its combined output.
func runAs(t *testing.T, cred *syscall.Credential, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestKickAsQscan runs the kick as it runs in the installed layout: qscan
// as user qscan, the real sendmail. With Debian's PrivacyOptions
// (restrictqrun) sendmail refuses the queue run: `qscan lint` must warn
// and say how to fix it, the daemon must log it once, not once per batch, and
// the mail must stay queued for the queue runner. Without restrictqrun
// (the set-up README.md documents) lint passes and the kick delivers.
func TestKickAsQscan(t *testing.T) {
	cred := asQscan(t)
	s := stack(t)
	clean(t, s)
	bin := stackutil.Binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)

	root, cfg := kickTree(t, cred, privacy(t, s, t.TempDir(), "restrictqrun,restrictexpand"))
	os.Chmod(filepath.Dir(filepath.Dir(cfg)), 0o755)
	// A warning, not an error: the init scripts lint before starting, and
	// a refused kick only delays delivery to the next queue run.
	// --no-engines: the kick is tested here, not the engines.
	lint, err := exec.Command(bin, "lint", "--no-engines", "-c", cfg).CombinedOutput()
	for _, want := range []string{"warning: queue.kick", "permission to process the queue", "restrictqrun"} {
		if err != nil || !strings.Contains(string(lint), want) {
			t.Errorf("lint with restrictqrun, run as root = %v:\n%s\nwant exit 0 and %q", err, lint, want)
		}
	}
	for i := range 3 {
		msg := filepath.Join(root, fmt.Sprintf("m%d.eml", i))
		os.WriteFile(msg, []byte(fmt.Sprintf("Subject: kick %d\n\nbody\n", i)), 0o644)
		if out, err := runAs(t, cred, bin, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "bob@example.test", msg); err != nil {
			t.Fatalf("enqueue: %v: %s", err, out)
		}
	}
	// max_messages = 1: three batches, three refused kicks, one line.
	out, err := runAs(t, cred, bin, "run", "--once", "-c", cfg)
	if err != nil {
		t.Fatalf("run --once as qscan: %v\n%s", err, out)
	}
	if n := strings.Count(out, "permission to process the queue"); n != 1 {
		t.Errorf("%d lines about the refused kick in 3 batches, want 1:\n%s", n, out)
	}
	if qfs, _ := filepath.Glob(filepath.Join(root, "out", "qf*")); len(qfs) != 3 {
		t.Errorf("outgoing queue holds %d qf, want the 3 messages waiting for the queue runner", len(qfs))
	}

	root, cfg = kickTree(t, cred, privacy(t, s, t.TempDir(), "restrictexpand"))
	if out, err := exec.Command(bin, "lint", "--no-engines", "-c", cfg).CombinedOutput(); err != nil || strings.Contains(string(out), "warning") {
		t.Errorf("lint without restrictqrun = %v:\n%s\nwant no warning", err, out)
	}
	msg := filepath.Join(root, "m.eml")
	os.WriteFile(msg, []byte("Subject: kicked\n\nbody\n"), 0o644)
	if out, err := runAs(t, cred, bin, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "bob@example.test", msg); err != nil {
		t.Fatalf("enqueue: %v: %s", err, out)
	}
	if out, err := runAs(t, cred, bin, "run", "--once", "-c", cfg); err != nil || strings.Contains(out, "kick") {
		t.Errorf("run --once as qscan = %v, want a quiet kick:\n%s", err, out)
	}
	got, err := stackutil.WaitSink(s.SinkDir, 1, 30*time.Second)
	if err != nil {
		t.Fatalf("the kick as user qscan delivered nothing: %v", err)
	}
	if v := stackutil.HeaderValue(got[0].Data, "Subject"); v != "kicked" {
		t.Errorf("sink got Subject %q, want kicked", v)
	}
}
