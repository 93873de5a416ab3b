//go:build e2e

package installed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/qscan/qscan/test/stackutil"
)

// tree is qscan installed by `scripts/install --root` in a private root.
type tree struct {
	root     string
	repo     string // the checkout: scripts/, etc/
	stack    stackutil.Stack
	bin      string // root/usr/sbin/qscan
	conf     string // root/etc/qscan/qscan.toml
	cfg      installedConfig
	uid, gid int // user qscan

	rootOwnedAtStart []string // what root owned in qscan's dirs after the first start
	cleanSent        []mail   // clean messages sent by testPickup
}

// path returns the installed location of an absolute production path.
func (tr *tree) path(p string) string { return filepath.Join(tr.root, p) }

// setUp installs qscan with the installer into a private root next to the
// stack (so that its work dir and the queues share a filesystem, as on a
// server), points the installed configuration at the stack, and registers
// the cleanup. It skips the test when not root or when the stack is down.
func setUp(t *testing.T) *tree {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: scripts/install creates user qscan and sets owners (run as root with the test stack up)")
	}
	if err := stackutil.Status("sink", "sendmail", "clamd", "spamd"); err != nil {
		t.Skipf("test stack not up (run: scripts/teststack start; QSCAN_STACK_PORTS for an offset stack): %v", err)
	}
	s, err := stackutil.Env()
	if err != nil {
		t.Fatal(err)
	}
	script, err := stackutil.Script()
	if err != nil {
		t.Fatal(err)
	}
	tr := &tree{stack: s, repo: filepath.Dir(filepath.Dir(script))}
	bin := stackutil.Binary(t)
	if tr.root, err = os.MkdirTemp(filepath.Dir(s.Dir), "qscan-installed-"); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: after the daemon is stopped.
	t.Cleanup(func() {
		if err := os.RemoveAll(tr.root); err != nil {
			t.Errorf("remove the private root: %v", err)
		}
	})
	// User qscan must reach the tree, as it reaches / on a server.
	if err := os.Chmod(tr.root, 0o755); err != nil {
		t.Fatal(err)
	}
	tr.bin, tr.conf = tr.path("/usr/sbin/qscan"), tr.path("/etc/qscan/qscan.toml")
	tr.makeHost(t)
	tr.runInstaller(t, bin)
	tr.pointAtStack(t)
	t.Cleanup(func() { tr.stopAll(t) })
	return tr
}

// makeHost gives the private root what a Debian host with sendmail has
// before qscan is installed: /var/spool/mqueue, smmta:smmsp 2750.
func (tr *tree) makeHost(t *testing.T) {
	t.Helper()
	smmta, err := user.Lookup("smmta")
	if err != nil {
		t.Fatalf("sendmail's user: %v", err)
	}
	smmsp, err := user.LookupGroup("smmsp")
	if err != nil {
		t.Fatalf("sendmail's group: %v", err)
	}
	q := tr.path("/var/spool/mqueue")
	if err := os.MkdirAll(q, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(smmta.Uid)
	gid, _ := strconv.Atoi(smmsp.Gid)
	if err := errors.Join(os.Chown(q, uid, gid), syscall.Chmod(q, 0o2750)); err != nil {
		t.Fatal(err)
	}
}

// runInstaller runs scripts/install --root. User qscan and its group are
// removed at the end if the installer created them.
func (tr *tree) runInstaller(t *testing.T, bin string) {
	t.Helper()
	_, userErr := user.Lookup("qscan")
	_, groupErr := user.LookupGroup("qscan")
	cmd := exec.Command(filepath.Join(tr.repo, "scripts", "install"), "--root", tr.root, "--init", "sysv",
		"--postmaster", postmaster, "--org-name", orgName, bin)
	out, err := cmd.CombinedOutput()
	if userErr != nil || groupErr != nil {
		t.Cleanup(func() { removeUser(t, userErr != nil, groupErr != nil) })
	}
	if err != nil {
		t.Fatalf("scripts/install --root %s: %v\n%s", tr.root, err, out)
	}
	u, err := user.Lookup("qscan")
	if err != nil {
		t.Fatalf("user qscan after scripts/install: %v", err)
	}
	tr.uid, _ = strconv.Atoi(u.Uid)
	tr.gid, _ = strconv.Atoi(u.Gid)
}

// removeUser deletes user and group qscan, which the test's installation
// created.
func removeUser(t *testing.T, userToo, groupToo bool) {
	if userToo {
		if out, err := exec.Command("userdel", "qscan").CombinedOutput(); err != nil {
			t.Errorf("userdel qscan: %v\n%s", err, out)
		}
	}
	if _, err := user.LookupGroup("qscan"); groupToo && err == nil {
		if out, err := exec.Command("groupdel", "qscan").CombinedOutput(); err != nil {
			t.Errorf("groupdel qscan: %v\n%s", err, out)
		}
	}
}

// owner is the numeric owner, group and permission bits of a file.
type owner struct {
	uid, gid int
	mode     uint32 // st_mode & 07777
}

func ownerOf(path string) (owner, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return owner{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return owner{int(st.Uid), int(st.Gid), st.Mode & 0o7777}, nil
}

func (o owner) apply(path string) error {
	if err := os.Lchown(path, o.uid, o.gid); err != nil {
		return err
	}
	return syscall.Chmod(path, o.mode)
}

// useInstalledQueueModes gives the stack's queues the owner and mode the
// installer gave the private root's (it makes sendmail's queues
// group-writable for qscan), and restores them at the end.
func (tr *tree) useInstalledQueueModes(t *testing.T) {
	t.Helper()
	pairs := [][2]string{
		{tr.path("/var/spool/mqueue"), tr.stack.Outgoing},
		{tr.path("/var/spool/mqueue.in"), tr.stack.Incoming},
	}
	for _, p := range pairs {
		installed, err := ownerOf(p[0])
		if err != nil {
			t.Fatal(err)
		}
		orig, err := ownerOf(p[1])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := orig.apply(p[1]); err != nil {
				t.Errorf("restore %s: %v", p[1], err)
			}
		})
		if err := installed.apply(p[1]); err != nil {
			t.Fatal(err)
		}
	}
}
