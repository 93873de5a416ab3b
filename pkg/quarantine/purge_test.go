package quarantine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestDelete(t *testing.T) {
	idx := &memIndex{}
	q := &Quarantine{Dir: t.TempDir(), Index: idx}
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	a := store(t, q, "AAA", at)
	b := store(t, q, "BBB", at)
	if err := q.Delete(a); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := q.Delete(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete error = %v, want ErrNotFound", err)
	}
	if es, _ := q.List(time.Time{}); !slices.Equal(ids(es), []string{b}) {
		t.Errorf("List after Delete = %v, want [%s]", ids(es), b)
	}
	if err := q.Delete(b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(q.Dir, "20261122")); !os.IsNotExist(err) {
		t.Errorf("empty day directory kept: %v", err)
	}
	if !slices.Equal(idx.removed, []string{a, b}) {
		t.Errorf("index removed %v, want [%s %s]", idx.removed, a, b)
	}

	// An incomplete entry can be deleted; an index failure is reported
	// after the files are gone.
	c := store(t, q, "CCC", at)
	dir, _ := q.Path(c)
	os.Remove(filepath.Join(dir, "metadata.json"))
	idx.fail = errors.New("locked")
	if err := q.Delete(c); !errors.Is(err, ErrIndex) {
		t.Errorf("Delete with a failing index error = %v, want ErrIndex", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("entry kept after Delete: %v", err)
	}
}

func TestPurge(t *testing.T) {
	idx := &memIndex{}
	q := &Quarantine{Dir: t.TempDir(), Index: idx}
	now := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-30 * 24 * time.Hour) // 2026-12-01 12:00
	old := store(t, q, "OLD", now.AddDate(0, 0, -40))
	oldNoMeta := store(t, q, "OLDNOMETA", now.AddDate(0, 0, -40))
	dir, _ := q.Path(oldNoMeta)
	os.Remove(filepath.Join(dir, "metadata.json"))
	before := store(t, q, "BEFORE", cutoff.Add(-time.Hour)) // same day as the cutoff
	after := store(t, q, "AFTER", cutoff.Add(time.Hour))
	fresh := store(t, q, "FRESH", now.AddDate(0, 0, -1))
	// Leftover of an interrupted delete, and a file that is not ours.
	oldDay := filepath.Join(q.Dir, now.AddDate(0, 0, -40).Format("20060102"))
	os.Mkdir(filepath.Join(oldDay, deletedPrefix+"X"), 0o700)
	os.WriteFile(filepath.Join(q.Dir, "20261201", "NOTES"), []byte("admin's"), 0o600)

	n, err := q.Purge(30*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("Purge removed %d entries, want 3", n)
	}
	es, _ := q.List(time.Time{})
	if want := []string{fresh, after}; !slices.Equal(ids(es), want) {
		t.Errorf("List after Purge = %v, want %v", ids(es), want)
	}
	slices.Sort(idx.removed)
	want := []string{before, old, oldNoMeta}
	slices.Sort(want)
	if !slices.Equal(idx.removed, want) {
		t.Errorf("index removed %v, want %v", idx.removed, want)
	}
	if _, err := os.Stat(oldDay); !os.IsNotExist(err) {
		t.Errorf("old day directory kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(q.Dir, "20261201", "NOTES")); err != nil {
		t.Errorf("a file that is not an entry was removed: %v", err)
	}
	if n, err := q.Purge(0, now); err == nil || n != 0 {
		t.Errorf("Purge(0) = %d, %v; want an error", n, err)
	}
}
