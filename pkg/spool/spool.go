// Package spool is the queue directory of qscan's SMTP content filter. One
// message is one file, ef<ID>: the envelope (the line format of
// Envelope.EntryBytes, first line MagicEntry) followed by the whole message,
// header and body, as the DATA command carried it after dot-unstuffing,
// with CRLF line ends turned into LF as in sendmail's df. The file appears
// under its name only once complete and fsynced: its name is the commit
// marker. One file per message means one create, one fsync, one rename,
// one lock and one unlink for the spool's part of a message.
//
// Entries of format 1, written by qscan before one-file entries, are two
// files: ef<ID> holds the envelope alone (first line Magic) and mf<ID> the
// message. They are still listed, locked, read and removed, so that a
// spool keeps its mail across the upgrade; nothing writes them any more.
//
// It is a plain library that knows nothing of SMTP or scanning; its API
// follows pkg/sendmail's (List/Entry, Lock/Locked, Publish).
package spool

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
	"golang.org/x/sys/unix"
)

// EnvName returns the name of the envelope file of id.
func EnvName(id string) string { return "ef" + id }

// DataName returns the name of the message file of a format-1 entry.
func DataName(id string) string { return "mf" + id }

// MaxIDLen bounds ValidID.
const MaxIDLen = 64

// ValidID reports whether id can name a spool file: 1 to MaxIDLen
// characters from [A-Za-z0-9_-] (the same set as sendmail queue IDs), so a
// name never becomes a path.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Spool is a spool directory. All files are in Dir.
type Spool struct {
	Dir string
}

// Open checks that dir is a directory (not a symbolic link to one) and
// returns its Spool.
func Open(dir string) (Spool, error) {
	st, err := os.Lstat(dir)
	if err != nil {
		return Spool{}, fmt.Errorf("open spool %s: %w", dir, err)
	}
	if !st.IsDir() {
		return Spool{}, fmt.Errorf("open spool %s: not a directory", dir)
	}
	return Spool{Dir: dir}, nil
}

// EnvPath returns the path of the envelope file of id.
func (s Spool) EnvPath(id string) string { return filepath.Join(s.Dir, EnvName(id)) }

// DataPath returns the path of the message file of a format-1 entry.
func (s Spool) DataPath(id string) string { return filepath.Join(s.Dir, DataName(id)) }

// Entry is one message in the spool.
type Entry struct {
	ID      string
	EnvPath string
	// DataPath is the message file of a format-1 entry: set when the
	// listing held mf<ID> beside ef<ID>; "" for a one-file entry.
	DataPath string
	ModTime  time.Time // of the envelope file: when the message was committed
	Size     int64     // bytes of the entry's files
}

// List returns the committed messages, oldest envelope first (then by ID).
// It lists regular, non-empty files named "ef" plus a ValidID and ignores
// everything else: message files without an envelope (left by a crash:
// see Clean), temporary files, symlinks, directories. Whether an entry has
// a message file of its own is read from the same listing: a format-1
// envelope whose message file is missing is listed as a one-file entry,
// and reading it says what is wrong (Locked.Head).
func (s Spool) List() ([]Entry, error) {
	des, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("list spool %s: %w", s.Dir, err)
	}
	data := map[string]bool{}
	for _, de := range des {
		if id, ok := strings.CutPrefix(de.Name(), "mf"); ok && de.Type().IsRegular() {
			data[id] = true
		}
	}
	var out []Entry
	for _, de := range des {
		id, ok := strings.CutPrefix(de.Name(), "ef")
		if !ok || !ValidID(id) || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list spool %s: %w", s.Dir, err)
		}
		if info.Size() == 0 {
			continue // never ours: an envelope is linked only once complete
		}
		e := Entry{ID: id, EnvPath: s.EnvPath(id), ModTime: info.ModTime(), Size: info.Size()}
		if data[id] {
			e.DataPath = s.DataPath(id)
			if st, err := os.Lstat(e.DataPath); err == nil {
				e.Size += st.Size()
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// StagedPath is where an entry of id is written before it is published
// under EnvPath (by qscan's own reports, staged with a batch): a temporary
// name, removed by Clean when left by a crash, that keeps id taken.
func (s Spool) StagedPath(id string) string {
	return filepath.Join(s.Dir, safeio.TempPrefix+EnvName(id))
}

// Taken reports whether a file of id (entry, format-1 message file, or
// staged entry) exists.
func (s Spool) Taken(id string) bool {
	for _, p := range []string{s.EnvPath(id), s.DataPath(id), s.StagedPath(id)} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// Remove deletes the messages ids durably: for each, the envelope first
// (the message is gone from then on), then a format-1 message file; then
// one fsync of the directory. Files already gone are not an error.
func (s Spool) Remove(ids ...string) error {
	var errs []error
	for _, id := range ids {
		if !ValidID(id) {
			errs = append(errs, fmt.Errorf("remove spool entry %q: invalid id", id))
			continue
		}
		for _, p := range []string{s.EnvPath(id), s.DataPath(id)} {
			// unlink alone: os.Remove tries rmdir too when unlink fails,
			// and a one-file entry has no message file to unlink.
			if err := unix.Unlink(p); err != nil && err != unix.ENOENT {
				errs = append(errs, fmt.Errorf("remove spool entry %s: %w", id, err))
			}
		}
	}
	if err := safeio.SyncDir(s.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Clean removes what a crash can leave behind, modified before the time
// older: qscan's temporary files and message files without an envelope.
// Call it at start-up before accepting mail (or with older well in the
// past), so that no message being written is touched. It returns the
// names removed.
func (s Spool) Clean(older time.Time) ([]string, error) {
	des, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("clean spool %s: %w", s.Dir, err)
	}
	var gone []string
	for _, de := range des {
		name := de.Name()
		id, isData := strings.CutPrefix(name, "mf")
		orphan := isData && ValidID(id) && de.Type().IsRegular() && !exists(s.EnvPath(id))
		if !orphan && !strings.HasPrefix(name, safeio.TempPrefix) {
			continue
		}
		info, err := de.Info()
		if err != nil || !info.ModTime().Before(older) || !info.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(s.Dir, name)); err == nil {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		return gone, safeio.SyncDir(s.Dir)
	}
	return nil, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Usage counts the committed messages and their bytes.
func (s Spool) Usage() (n int, bytes int64, err error) {
	es, err := s.List()
	for _, e := range es {
		bytes += e.Size
	}
	return len(es), bytes, err
}

// FreeBytes returns the bytes available to an unprivileged writer on the
// spool's filesystem.
func (s Spool) FreeBytes() (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.Dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", s.Dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
