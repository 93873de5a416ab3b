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

// Locked holds exclusive flocks on a message's files. Read through Env
// and Data, not by opening the paths again: the lock belongs to these
// descriptors.
type Locked struct {
	// Env is the entry's envelope file: for a one-file entry the whole
	// entry, envelope and message.
	Env *os.File
	// Data holds the message from Start on: the same file as Env for a
	// one-file entry, the message file of a format-1 entry.
	Data *os.File

	start int64 // where the message starts in Data; known after Head
	head  bool  // Head has found the envelope of a one-file entry
}

// Lock opens envPath and, for a format-1 entry, dataPath ("" for a
// one-file entry) and takes a non-blocking exclusive flock on each. If
// either is held elsewhere it returns ErrLocked and holds nothing; a
// missing message file gives ErrNoData.
func Lock(envPath, dataPath string) (*Locked, error) {
	env, err := lockFile(envPath)
	if err != nil {
		return nil, err
	}
	if dataPath == "" {
		return &Locked{Env: env, Data: env}, nil
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

// OneFile reports whether the entry is a one-file entry.
func (l *Locked) OneFile() bool { return l.Data == l.Env }

// Head returns the envelope of the locked entry in the form ParseEnvelope
// reads, at most lim.MaxBytes of it, and sets where the message starts.
// For a format-1 entry that is the envelope file as it is. For a one-file
// entry ok is false when the file does not start with a format-2 envelope
// (a format-1 envelope whose message file is gone, or anything else): head
// is then what was read, for the record of a message set aside.
func (l *Locked) Head(lim Limits) (head []byte, ok bool, err error) {
	lim = lim.withDefaults()
	if !l.OneFile() {
		head, err = io.ReadAll(io.NewSectionReader(l.Env, 0, lim.MaxBytes+1))
		return head, err == nil, err
	}
	head, start, ok, err := ReadHead(l.Env, lim)
	if ok {
		l.start, l.head = start, true
	}
	return head, ok, err
}

// Start is the offset of the message in Data (known after Head for a
// one-file entry).
func (l *Locked) Start() int64 { return l.start }

// Envelope reads the locked envelope from its start.
func (l *Locked) Envelope(lim Limits) (*Envelope, error) {
	head, ok, err := l.Head(lim)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", l.Env.Name(), ErrNoData)
	}
	return ParseEnvelope(bytes.NewReader(head), lim)
}

// Message returns a reader of the whole locked message (header and body)
// and its size. For a one-file entry, call Head or Envelope first.
func (l *Locked) Message() (*io.SectionReader, error) {
	if l.OneFile() && !l.head {
		return nil, fmt.Errorf("%s: message read before its envelope", l.Env.Name())
	}
	st, err := l.Data.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", l.Data.Name(), err)
	}
	return io.NewSectionReader(l.Data, l.start, st.Size()-l.start), nil
}

// Unlock releases the locks and closes the files.
func (l *Locked) Unlock() error {
	if l.OneFile() {
		return l.Env.Close()
	}
	return errors.Join(l.Data.Close(), l.Env.Close())
}

// ReplaceEnvelope writes env as the new envelope of the locked message id
// in s (e.g. with only the recipients still to deliver): a new file,
// fsynced, locked, renamed over the old envelope, the directory fsynced.
// For a one-file entry the new file holds the message too, copied from
// the locked one (call Head or Envelope first). The lock moves to the new
// file, so the message is never unlocked.
func (s Spool) ReplaceEnvelope(l *Locked, id string, env *Envelope) error {
	if !ValidID(id) {
		return fmt.Errorf("replace envelope %q: invalid id", id)
	}
	one := l.OneFile()
	bytesOf := env.Bytes
	if one {
		bytesOf = env.EntryBytes
	}
	b, err := bytesOf()
	if err != nil {
		return fmt.Errorf("replace envelope %s: %w", id, err)
	}
	content := &entryReader{head: b, data: bytes.NewReader(nil)}
	if one {
		msg, err := l.Message()
		if err != nil {
			return fmt.Errorf("replace envelope %s: %w", id, err)
		}
		content.data = msg
	}
	tmp, _, err := s.temp("e", content)
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
	if one {
		l.Data, l.start = nf, int64(len(b))
	}
	old.Close()
	return safeio.SyncDir(s.Dir)
}
