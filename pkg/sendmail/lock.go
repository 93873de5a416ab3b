package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/qscan/qscan/pkg/safeio"
)

// ErrLocked means another process (sendmail, another scanner) holds the
// lock on a queue file; try the message again later.
var ErrLocked = safeio.ErrLocked

// ErrNoDf means the qf has no df; the caller should set the message aside.
var ErrNoDf = errors.New("sendmail: df file missing")

// ErrGone means the queue file was removed or replaced while being locked.
var ErrGone = safeio.ErrGone

// ErrNotRegular means a queue file is a symbolic link or not a regular
// file: never followed, never read (whoever can write the queue directory
// could point it at any file the scanner can read).
var ErrNotRegular = safeio.ErrNotRegular

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
	return safeio.LockFile(path, os.O_RDWR, nil)
}

// Unlock releases both locks and closes the files.
func (l *Locked) Unlock() error {
	return errors.Join(l.Df.Close(), l.Qf.Close())
}
