package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/qscan/qscan/pkg/safeio"
)

// ErrLocked means another process or goroutine holds a message; try again
// later.
var ErrLocked = safeio.ErrLocked

// ErrNoData means the envelope has no message file; set the entry aside.
var ErrNoData = errors.New("spool: message file missing")

// ErrGone means the file was removed or replaced while being locked.
var ErrGone = safeio.ErrGone

// ErrNotRegular means a spool file is a symbolic link or not a regular
// file: never followed, never read.
var ErrNotRegular = safeio.ErrNotRegular

// Locked holds exclusive flocks on a message's envelope and message file.
// Read through Env and Data, not by opening the paths again: the lock
// belongs to these descriptors.
type Locked struct {
	Env  *os.File
	Data *os.File
}

// Lock opens envPath then dataPath and takes a non-blocking exclusive
// flock on each. If either is held elsewhere it returns ErrLocked and
// holds nothing; a missing message file gives ErrNoData.
func Lock(envPath, dataPath string) (*Locked, error) {
	env, err := lockFile(envPath)
	if err != nil {
		return nil, err
	}
	data, err := lockFile(dataPath)
	if err != nil {
		env.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", dataPath, ErrNoData)
		}
		return nil, err
	}
	return &Locked{Env: env, Data: data}, nil
}

// Lock locks the entry's files (see Lock).
func (e Entry) Lock() (*Locked, error) { return Lock(e.EnvPath, e.DataPath) }

func lockFile(path string) (*os.File, error) {
	return safeio.LockFile(path, os.O_RDWR, nil)
}

// Envelope reads the locked envelope from its start.
func (l *Locked) Envelope(lim Limits) (*Envelope, error) {
	return ParseEnvelope(io.NewSectionReader(l.Env, 0, 1<<62), lim)
}

// Message returns a reader of the whole locked message file from its
// start, and its size.
func (l *Locked) Message() (*io.SectionReader, error) {
	st, err := l.Data.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", l.Data.Name(), err)
	}
	return io.NewSectionReader(l.Data, 0, st.Size()), nil
}

// Unlock releases both locks and closes the files.
func (l *Locked) Unlock() error {
	return errors.Join(l.Data.Close(), l.Env.Close())
}

// ReplaceEnvelope writes env as the new envelope of the locked message id
// in s (e.g. with only the recipients still to deliver): a new file,
// fsynced, locked, renamed over the old envelope, the directory fsynced.
// The lock moves to the new file, so the message is never unlocked.
func (s Spool) ReplaceEnvelope(l *Locked, id string, env *Envelope) error {
	if !ValidID(id) {
		return fmt.Errorf("replace envelope %q: invalid id", id)
	}
	b, err := env.Bytes()
	if err != nil {
		return fmt.Errorf("replace envelope %s: %w", id, err)
	}
	tmp, _, err := s.temp("e", bytes.NewReader(b))
	if err != nil {
		return err
	}
	nf, err := lockFile(tmp)
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, s.EnvPath(id)); err != nil {
		nf.Close()
		os.Remove(tmp)
		return fmt.Errorf("replace envelope %s: %w", id, err)
	}
	old := l.Env
	l.Env = nf
	old.Close()
	return safeio.SyncDir(s.Dir)
}
