package spool

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/qscan/qscan/pkg/safeio"
	"golang.org/x/sys/unix"
)

// IDSource makes fresh message IDs; *sendmail.IDGen is one (its IDs look
// like the rest of qscan's log). Publish never overwrites: a taken ID is
// skipped.
type IDSource interface {
	Next() string
}

// MaxIDTries bounds the search of Publish for a free ID.
const MaxIDTries = 100

// Publish commits one message as a one-file entry: the envelope
// (EntryBytes) and then the message bytes from data (header and body, LF
// line ends, no dot-stuffing) are written to a temporary file and fsynced;
// the file is renamed to ef<ID> without replacing anything (its name is
// the commit marker), and the directory is fsynced. When Publish returns
// nil the message is durable and listed; on an error nothing of it is
// listed (a crash in between leaves at most a temporary file, which Clean
// removes). It returns the ID and the bytes read from data. An error from
// data (size limit, timeout) is returned wrapped, unchanged for
// errors.Is/As.
func (s Spool) Publish(gen IDSource, env *Envelope, data io.Reader) (string, int64, error) {
	head, err := env.EntryBytes()
	if err != nil {
		return "", 0, fmt.Errorf("spool envelope: %w", err)
	}
	tmp, all, err := s.temp("e", &entryReader{head: head, data: data})
	n := max(all-int64(len(head)), 0)
	if err != nil {
		return "", n, err
	}
	for range MaxIDTries {
		id := gen.Next()
		if !ValidID(id) {
			os.Remove(tmp)
			return "", n, fmt.Errorf("publish in spool %s: invalid id %q from the generator", s.Dir, id)
		}
		if exists(s.DataPath(id)) || exists(s.StagedPath(id)) {
			continue // a format-1 message file or a staged entry of that ID
		}
		err := noReplace(tmp, s.EnvPath(id))
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			os.Remove(tmp)
			return "", n, fmt.Errorf("publish %s: %w", s.EnvPath(id), err)
		}
		if err := safeio.SyncDir(s.Dir); err != nil {
			// Not known to be durable: take it back so the sender retries.
			unix.Unlink(s.EnvPath(id))
			return "", n, err
		}
		return id, n, nil
	}
	os.Remove(tmp)
	return "", n, fmt.Errorf("no free id in spool %s after %d tries", s.Dir, MaxIDTries)
}

// entryReader reads the head of an entry, then the message from data.
// Its WriteTo copies through a pooled buffer: a fresh 32 KiB buffer for
// each message (io.MultiReader's) was most of the front end's garbage.
type entryReader struct {
	head []byte
	data io.Reader
}

func (e *entryReader) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	return e.data.Read(p)
}

func (e *entryReader) WriteTo(w io.Writer) (int64, error) {
	k, err := w.Write(e.head)
	e.head = e.head[k:]
	if err != nil {
		return int64(k), err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	m, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{e.data}, *bp)
	return int64(k) + m, err
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// noReplace renames from to to unless to exists (os.ErrExist then): one
// renameat2(RENAME_NOREPLACE), or where the filesystem has none a link
// and an unlink.
func noReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err == unix.EINVAL || err == unix.ENOSYS {
		if err = unix.Link(from, to); err == nil {
			unix.Unlink(from)
		}
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// temp writes r to a new, fsynced temporary file (safeio.TempPrefix, so
// Clean and safeio.RemoveTemps know it) and returns its path.
func (s Spool) temp(kind string, r io.Reader) (string, int64, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", 0, fmt.Errorf("spool temp name: %w", err)
	}
	p := filepath.Join(s.Dir, safeio.TempPrefix+kind+hex.EncodeToString(rnd[:]))
	n, err := safeio.CreateNew(p, r, 0o600)
	if err != nil {
		return "", n, err
	}
	return p, n, nil
}
