package health

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Owner is the user qscan's files belong to: the owner of the work dir,
// which scripts/install gives to user qscan (or leaves to root with
// --run-as-root). qscan started by root (cron's `qscan check --restart`,
// an operator's `qscan run`) runs as that user, so that it never leaves
// root-owned files (journal, database, status, pid file, log) where user
// qscan must later write: the next start as qscan would die on them.
type Owner struct {
	Name     string
	UID, GID int
	Groups   []int
}

// WorkDirOwner returns the user qscan must run as, or nil when nothing is
// to change: the caller is not root, root owns the work dir, or it does
// not exist yet (a first start creates it, as the caller).
func WorkDirOwner(workDir string) (*Owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	st, err := os.Stat(workDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owner of work dir: %w", err)
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	if uid == 0 {
		return nil, nil
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil, fmt.Errorf("owner of work dir %s: %w", workDir, err)
	}
	o := &Owner{Name: u.Username, UID: int(uid)}
	if o.GID, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("user %s: group %q: %w", u.Username, u.Gid, err)
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", u.Username, err)
	}
	for _, id := range ids {
		g, err := strconv.Atoi(id)
		if err != nil {
			return nil, fmt.Errorf("groups of user %s: %w", u.Username, err)
		}
		o.Groups = append(o.Groups, g)
	}
	return o, nil
}

// BecomeOwner switches the whole process (every thread) to the owner of
// the work dir, groups first; it returns that user's name, or "" when
// there was nothing to change.
func BecomeOwner(workDir string) (string, error) {
	o, err := WorkDirOwner(workDir)
	if o == nil || err != nil {
		return "", err
	}
	if err := syscall.Setgroups(o.Groups); err != nil {
		return "", fmt.Errorf("become user %s: groups: %w", o.Name, err)
	}
	if err := syscall.Setgid(o.GID); err != nil {
		return "", fmt.Errorf("become user %s: gid %d: %w", o.Name, o.GID, err)
	}
	if err := syscall.Setuid(o.UID); err != nil {
		return "", fmt.Errorf("become user %s: uid %d: %w", o.Name, o.UID, err)
	}
	return o.Name, nil
}

// mkdirOwned creates dir and its missing parents, and gives the ones it
// created to o (nil: the caller keeps them). An existing dir is left as
// it is.
func mkdirOwned(dir string, o *Owner) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o == nil {
		return nil
	}
	for _, d := range missing {
		if err := os.Chown(d, o.UID, o.GID); err != nil {
			return err
		}
	}
	return nil
}

// createOwned creates an empty file for o when path does not exist yet.
func createOwned(path string, o *Owner) error {
	if o == nil {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Chown(o.UID, o.GID)
}

// Credential is the credential of a process run as o.
func (o *Owner) Credential() *syscall.Credential {
	cred := &syscall.Credential{Uid: uint32(o.UID), Gid: uint32(o.GID)}
	for _, g := range o.Groups {
		cred.Groups = append(cred.Groups, uint32(g))
	}
	return cred
}
