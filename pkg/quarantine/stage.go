package quarantine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/qscan/qscan/pkg/safeio"
)

// Staged is a staged entry directory (see Stage) and the queue id of its
// message.
type Staged struct {
	Dir     string
	QueueID string
}

// stagedName checks that staged is a staged directory of this quarantine
// and returns its day directory, its reserved entry name and queue id.
func (q *Quarantine) stagedName(staged string) (dayDir, name, qid string, err error) {
	dayDir = filepath.Dir(staged)
	name, ok := strings.CutPrefix(filepath.Base(staged), stagedPrefix)
	qid, valid := splitName(name)
	if !ok || !valid || !validDay(filepath.Base(dayDir)) || filepath.Dir(dayDir) != filepath.Clean(q.Dir) {
		return "", "", "", fmt.Errorf("quarantine: %q is not a staged entry: %w", staged, ErrBadID)
	}
	return dayDir, name, qid, nil
}

// Publish makes a staged entry an entry: it renames the directory to its
// entry name, fsyncs the day directory and tells the Index. It returns
// the entry directory. It never replaces an entry: a name taken since
// Stage gives the next free one. An entry of the same queue id that holds
// the very same queue files (a crash came after an earlier Publish and
// before the message left its queue) is the message's entry already: the
// staged copy is removed and that entry returned. Publishing again what
// was published returns its directory, so recovery can repeat it. An
// Index failure is returned wrapped in ErrIndex, the entry durable.
func (q *Quarantine) Publish(staged string) (string, error) {
	dayDir, reserved, qid, err := q.stagedName(staged)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(staged); errors.Is(err, os.ErrNotExist) {
		dir := filepath.Join(dayDir, reserved)
		if st, err := os.Lstat(dir); err == nil && st.IsDir() {
			return dir, nil
		}
		return "", fmt.Errorf("quarantine publish %s: %w", staged, ErrNotFound)
	}
	dir, err := q.rename(staged, dayDir, reserved, qid)
	if err != nil {
		return "", err
	}
	if err := safeio.SyncDir(dayDir); err != nil {
		return dir, fmt.Errorf("quarantine publish %s: %w", dir, err)
	}
	e, err := decodeEntry(dir, q.maxMetadata())
	if err != nil {
		return dir, fmt.Errorf("quarantine publish %s: %w", dir, err)
	}
	e.ID, e.Dir = filepath.Base(dayDir)+"/"+filepath.Base(dir), dir
	return dir, q.indexAdd(e)
}

// rename moves staged to the first free entry name of qid, or removes it
// when an entry of qid holds the same message.
func (q *Quarantine) rename(staged, dayDir, reserved, qid string) (string, error) {
	for n := 1; n < 1000; n++ {
		name := entryName(qid, n)
		dir := filepath.Join(dayDir, name)
		if _, err := os.Lstat(dir); err == nil {
			if q.sameMessage(dir, staged, qid) {
				if err := os.RemoveAll(staged); err != nil {
					return "", fmt.Errorf("quarantine publish %s: %w", staged, err)
				}
				return dir, nil
			}
			continue
		}
		if name != reserved {
			if _, err := os.Lstat(filepath.Join(dayDir, stagedPrefix+name)); err == nil {
				continue // reserved by another staged entry
			}
		}
		err := os.Rename(staged, dir)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, syscall.EEXIST) && !errors.Is(err, syscall.ENOTEMPTY) {
			return "", fmt.Errorf("quarantine publish %s: %w", staged, err)
		}
	}
	return "", fmt.Errorf("quarantine publish %s: too many entries for %s", staged, qid)
}

// sameMessage reports whether entry dir and staged directory hold the same
// kind of entry of the same message: byte-identical qf and df files (one
// of them at least) and the same Whole.
func (q *Quarantine) sameMessage(dir, staged, qid string) bool {
	a, errA := decodeEntry(dir, q.maxMetadata())
	b, errB := decodeEntry(staged, q.maxMetadata())
	if errA != nil || errB != nil || a.Whole != b.Whole {
		return false
	}
	files := 0
	for _, f := range []string{"qf" + qid, "df" + qid} {
		x, errX := os.ReadFile(filepath.Join(dir, f))
		y, errY := os.ReadFile(filepath.Join(staged, f))
		switch {
		case errors.Is(errX, os.ErrNotExist) && errors.Is(errY, os.ErrNotExist):
		case errX != nil || errY != nil || !bytes.Equal(x, y):
			return false
		default:
			files++
		}
	}
	return files > 0
}

// Discard removes a staged entry that will not be published. A
// directory that is not a staged one is never removed.
func (q *Quarantine) Discard(staged string) error {
	if _, _, _, err := q.stagedName(staged); err != nil {
		return err
	}
	if err := os.RemoveAll(staged); err != nil {
		return fmt.Errorf("quarantine discard %s: %w", staged, err)
	}
	return nil
}

// StagedEntries lists the staged entries of every day directory: after a
// crash, those of batches that were never committed.
func (q *Quarantine) StagedEntries() ([]Staged, error) {
	m, err := filepath.Glob(filepath.Join(q.Dir, "*", stagedPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("quarantine staged: %w", err)
	}
	var out []Staged
	for _, d := range m {
		if _, _, qid, err := q.stagedName(d); err == nil {
			out = append(out, Staged{Dir: d, QueueID: qid})
		}
	}
	return out, nil
}
