package quarantine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

// deletedPrefix names an entry directory on its way out: renamed first,
// so that no reader ever sees half an entry, then removed. Such names are
// not entry ids, so List ignores them; Purge removes leftovers.
const deletedPrefix = safeio.TempPrefix + "del-"

// Delete removes entry id (complete or not) and tells the Index.
func (q *Quarantine) Delete(id string) error {
	dir, err := q.entryDir(id)
	if err != nil {
		return err
	}
	if err := removeEntry(dir); err != nil {
		return fmt.Errorf("quarantine delete %s: %w", id, err)
	}
	dayDir := filepath.Dir(dir)
	if err := safeio.SyncDir(dayDir); err != nil {
		return fmt.Errorf("quarantine delete %s: %w", id, err)
	}
	q.removeIfEmpty(dayDir)
	return q.indexRemove(id)
}

// removeEntry renames dir out of the way, then removes it with its files.
func removeEntry(dir string) error {
	gone := filepath.Join(filepath.Dir(dir), deletedPrefix+filepath.Base(dir))
	if err := os.Rename(dir, gone); err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

// removeIfEmpty removes a day directory that holds nothing any more.
func (q *Quarantine) removeIfEmpty(dayDir string) {
	if os.Remove(dayDir) == nil {
		safeio.SyncDir(q.Dir)
	}
}

func (q *Quarantine) indexRemove(id string) error {
	if q.Index == nil {
		return nil
	}
	if err := q.Index.Remove(id); err != nil {
		return fmt.Errorf("quarantine index remove %s: %w: %w", id, ErrIndex, err)
	}
	return nil
}

// Purge removes the entries older than olderThan at now and returns how
// many it removed. A day directory that ended before the cutoff goes
// whole; in the day of the cutoff, each entry's time decides (the
// directory's time for an incomplete entry). Empty day directories and
// leftovers of interrupted deletes are removed too. It goes on after an
// error and returns them all.
func (q *Quarantine) Purge(olderThan time.Duration, now time.Time) (int, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("quarantine purge: age %v must be positive", olderThan)
	}
	cutoff := now.Add(-olderThan)
	days, err := q.days()
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range days {
		if !d.t.Before(cutoff) {
			continue // the day starts after the cutoff: nothing in it is old enough
		}
		whole := !d.t.AddDate(0, 0, 1).After(cutoff)
		k, err := q.purgeDay(d.name, whole, cutoff)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// purgeDay removes the old entries of one day directory: all of them when
// whole, else those older than cutoff.
func (q *Quarantine) purgeDay(name string, whole bool, cutoff time.Time) (int, error) {
	dayDir := filepath.Join(q.Dir, name)
	des, err := os.ReadDir(dayDir)
	if err != nil {
		return 0, fmt.Errorf("quarantine purge %s: %w", dayDir, err)
	}
	n := 0
	var errs []error
	for _, de := range des {
		path := filepath.Join(dayDir, de.Name())
		if strings.HasPrefix(de.Name(), deletedPrefix) {
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, fmt.Errorf("quarantine purge %s: %w", path, err))
			}
			continue
		}
		if _, ok := splitName(de.Name()); !ok || !de.IsDir() {
			continue // not ours: left alone
		}
		id := name + "/" + de.Name()
		if !whole && !q.readEntry(id, path).Time.Before(cutoff) {
			continue
		}
		if err := removeEntry(path); err != nil {
			errs = append(errs, fmt.Errorf("quarantine purge %s: %w", id, err))
			continue
		}
		n++
		if err := q.indexRemove(id); err != nil {
			errs = append(errs, err)
		}
	}
	if err := safeio.SyncDir(dayDir); err != nil {
		errs = append(errs, err)
	}
	q.removeIfEmpty(dayDir)
	return n, errors.Join(errs...)
}
