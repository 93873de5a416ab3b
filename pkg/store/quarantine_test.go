package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func listIDs(t *testing.T, x *QuarantineIndex, since time.Time, limit int) []string {
	t.Helper()
	es, err := x.List(context.Background(), since, limit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestQuarantineIndex(t *testing.T) {
	s, path := openTemp(t)
	x := s.QuarantineIndex()
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for i, id := range []string{"AAA", "BBB", "CCC"} {
		e := quarantine.Entry{ID: "20261122/" + id, QueueID: id, Dir: "/q/20261122/" + id, Time: at.Add(time.Duration(i) * time.Hour),
			Sender: "a@b", Recipients: []string{"c@d", "e@f"}, Subject: "s " + id, Reason: "virus"}
		if err := x.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := listIDs(t, x, time.Time{}, 0), []string{"20261122/CCC", "20261122/BBB", "20261122/AAA"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	if got, want := listIDs(t, x, at.Add(time.Hour), 0), []string{"20261122/CCC", "20261122/BBB"}; !slices.Equal(got, want) {
		t.Errorf("List(since) = %v, want %v", got, want)
	}
	if got := listIDs(t, x, time.Time{}, 1); !slices.Equal(got, []string{"20261122/CCC"}) {
		t.Errorf("List(limit 1) = %v", got)
	}

	rel := at.Add(48 * time.Hour)
	if err := x.MarkReleased("20261122/AAA", rel); err != nil {
		t.Fatal(err)
	}
	if err := x.MarkReleased("20261122/NONE", rel); !errors.Is(err, ErrNotIndexed) {
		t.Errorf("MarkReleased of a missing entry error = %v, want ErrNotIndexed", err)
	}
	if err := x.Remove("20261122/BBB"); err != nil {
		t.Fatal(err)
	}
	if err := x.Remove("20261122/BBB"); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	// Adding again replaces the row instead of failing.
	if err := x.Add(quarantine.Entry{ID: "20261122/CCC", QueueID: "CCC", Time: at, Subject: "again"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.QuarantineIndex().List(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("List after reopen = %+v, want 2 entries", es)
	}
	var aaa quarantine.Entry
	for _, e := range es {
		if e.ID == "20261122/AAA" {
			aaa = e
		}
		if e.ID == "20261122/CCC" && e.Subject != "again" {
			t.Errorf("re-added CCC subject = %q, want %q", e.Subject, "again")
		}
	}
	if aaa.Dir != "/q/20261122/AAA" || !slices.Equal(aaa.Recipients, []string{"c@d", "e@f"}) || !aaa.Time.Equal(at) ||
		len(aaa.Released) != 1 || !aaa.Released[0].Time.Equal(rel) {
		t.Errorf("AAA after reopen = %+v", aaa)
	}
}

// TestQuarantineIndexWithStore runs the index under pkg/quarantine: what
// Store, Release and Delete do shows in the table.
func TestQuarantineIndexWithStore(t *testing.T) {
	s, _ := openTemp(t)
	q := &quarantine.Quarantine{Dir: t.TempDir(), Index: s.QuarantineIndex()}
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	dir, err := q.Store(quarantine.Item{Entry: quarantine.Entry{QueueID: "AAA", Time: at, Sender: "a@b", Recipients: []string{"c@d"}, Reason: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.QuarantineIndex().List(context.Background(), time.Time{}, 0)
	if err != nil || len(es) != 1 || es[0].ID != "20261122/AAA" || es[0].Dir != dir {
		t.Fatalf("index after Store = %+v, %v", es, err)
	}
	if err := q.Delete("20261122/AAA"); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s.QuarantineIndex(), time.Time{}, 0); len(got) != 0 {
		t.Errorf("index after Delete = %v", got)
	}
}

// TestQuarantineIndexKind: the index keeps whether an entry is the whole
// message or the parts of a message delivered cleaned, also in a database
// made before it had the column.
func TestQuarantineIndexKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE quarantine (id TEXT PRIMARY KEY, queue_id TEXT NOT NULL, dir TEXT NOT NULL,
		time INTEGER NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL, subject TEXT NOT NULL,
		reason TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	for _, p := range []string{path, filepath.Join(t.TempDir(), "new.db")} {
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		x := s.QuarantineIndex()
		at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
		for _, e := range []quarantine.Entry{
			{ID: "20261122/WHOLE", QueueID: "WHOLE", Time: at, Whole: true},
			{ID: "20261122/PARTS", QueueID: "PARTS", Time: at},
		} {
			if err := x.Add(e); err != nil {
				t.Fatal(err)
			}
		}
		es, err := x.List(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if want := e.QueueID == "WHOLE"; e.Whole != want {
				t.Errorf("%s: %s Whole = %v, want %v", filepath.Base(p), e.ID, e.Whole, want)
			}
		}
		s.Close()
	}
}
