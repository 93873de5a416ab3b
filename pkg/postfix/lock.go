package postfix

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
	"golang.org/x/sys/unix"
)

// ErrLocked means another process (the queue manager, another scanner)
// holds the lock on a queue file; try it again later.
var ErrLocked = errors.New("postfix: queue file locked by another process")

// ErrNotReady means the queue file lacks the ready mode (0700): cleanup is
// still writing it, or died doing so. Try it again later.
var ErrNotReady = errors.New("postfix: queue file not complete (mode is not 0700)")

// ErrGone means the queue file was removed or replaced while being locked.
var ErrGone = errors.New("postfix: queue file vanished while locking")

// ErrNotRegular means the queue file is a symbolic link or not a regular
// file: never followed, never read.
var ErrNotRegular = errors.New("postfix: queue file is not a regular file")

// Locked is a queue file opened and locked. Read it through File, not by
// opening the path again: the lock belongs to this descriptor.
type Locked struct {
	File *os.File
	Path string
}

// Lock opens the queue file at path without following a symbolic link,
// checks that it is a complete (mode 0700) regular file and takes a
// non-blocking exclusive flock on it: the lock Postfix's queue manager
// takes (myflock with INTERNAL_LOCK, flock on Linux) and the one another
// qscan takes. A file held elsewhere gives ErrLocked; one that is not
// complete gives ErrNotReady.
func Lock(path string) (*Locked, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock %s: %w (a symbolic link)", path, ErrNotRegular)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrNotRegular)
	}
	if st.Mode().Perm()&0o700 != ReadyMode {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrNotReady)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The holder we raced with may have moved or removed the file (postsuper
	// -H, -d) before we got the lock: a lock on a dead name protects nothing.
	if same, err := samePath(f, path); err != nil || !same {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrGone)
	}
	return &Locked{File: f, Path: path}, nil
}

func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// Parse reads and parses the locked file from its start.
func (l *Locked) Parse(lim Limits) (*File, error) {
	f, err := Parse(io.NewSectionReader(l.File, 0, 1<<62), lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Path, err)
	}
	return f, nil
}

// Unlock releases the lock and closes the file.
func (l *Locked) Unlock() error { return l.File.Close() }

// Remove unlinks the locked file, if its path still names it, and makes
// the removal durable (fsync of its directory); then it unlocks. A file
// already gone is not an error: the message was released before.
func (l *Locked) Remove() error {
	defer l.File.Close()
	same, err := samePath(l.File, l.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", l.Path, err)
	}
	if !same {
		return fmt.Errorf("remove %s: %w", l.Path, ErrGone)
	}
	if err := os.Remove(l.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", l.Path, err)
	}
	return safeio.SyncDir(filepath.Dir(l.Path))
}
