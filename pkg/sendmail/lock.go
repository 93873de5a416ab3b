package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked means another process (sendmail, another scanner) holds the
// lock on a queue file; try the message again later.
var ErrLocked = errors.New("sendmail: queue file locked by another process")

// ErrNoDf means the qf has no df; the caller should set the message aside.
var ErrNoDf = errors.New("sendmail: df file missing")

// ErrGone means the queue file was removed or replaced while being locked.
var ErrGone = errors.New("sendmail: queue file vanished while locking")

// ErrNotRegular means a queue file is a symbolic link or not a regular
// file: never followed, never read (whoever can write the queue directory
// could point it at any file the scanner can read).
var ErrNotRegular = errors.New("sendmail: queue file is not a regular file")

// Locked holds exclusive locks on a message's qf and df. Read through Qf
// and Df, not by opening the paths again: the lock belongs to these
// descriptors.
type Locked struct {
	Qf *os.File
	Df *os.File
}

// Lock opens qfPath then dfPath read-write and takes a non-blocking
// exclusive flock on each, the primitive sendmail uses on Linux (HASFLOCK).
// If either is held elsewhere it returns ErrLocked and holds nothing. A
// missing df gives ErrNoDf, after the qf lock is released.
func Lock(qfPath, dfPath string) (*Locked, error) {
	qf, err := lockFile(qfPath)
	if err != nil {
		return nil, err
	}
	df, err := lockFile(dfPath)
	if err != nil {
		qf.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", dfPath, ErrNoDf)
		}
		return nil, err
	}
	return &Locked{Qf: qf, Df: df}, nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock %s: %w (a symbolic link)", path, ErrNotRegular)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrNotRegular)
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
	// The holder we waited on may have unlinked or replaced the file
	// before letting go; a lock on a dead inode protects nothing.
	if same, err := sameFile(f, path); err != nil || !same {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrGone)
	}
	return f, nil
}

func sameFile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// Unlock releases both locks and closes the files.
func (l *Locked) Unlock() error {
	return errors.Join(l.Df.Close(), l.Qf.Close())
}
