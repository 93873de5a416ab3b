package postfix

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
)

// ErrLocked means another process (the queue manager, another scanner)
// holds the lock on a queue file; try it again later.
var ErrLocked = safeio.ErrLocked

// ErrNotReady means the queue file lacks the ready mode (0700): cleanup is
// still writing it, or died doing so. Try it again later.
var ErrNotReady = errors.New("postfix: queue file not complete (mode is not 0700)")

// ErrGone means the queue file was removed or replaced while being locked.
var ErrGone = safeio.ErrGone

// ErrNotRegular means the queue file is a symbolic link or not a regular
// file: never followed, never read.
var ErrNotRegular = safeio.ErrNotRegular

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
	f, err := safeio.LockFile(path, os.O_RDONLY, func(st fs.FileInfo) error {
		if st.Mode().Perm()&0o700 != ReadyMode {
			return ErrNotReady
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Locked{File: f, Path: path}, nil
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
	if _, err := os.Lstat(l.Path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if !safeio.StillNamed(l.File, l.Path) {
		return fmt.Errorf("remove %s: %w", l.Path, ErrGone)
	}
	if err := os.Remove(l.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", l.Path, err)
	}
	return safeio.SyncDir(filepath.Dir(l.Path))
}
