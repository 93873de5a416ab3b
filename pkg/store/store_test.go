package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAttempts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "q.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for i := 1; i <= 3; i++ {
		got, err := s.BumpAttempts(ctx, []string{"A", "B"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got["A"] != i || got["B"] != i {
			t.Fatalf("BumpAttempts round %d = %v, want %d each", i, got, i)
		}
	}
	if err := s.UndoAttempt(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearAttempts(ctx, []string{"B"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The counts survive a reopen: they exist to count crashes.
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Attempts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "A" || rows[0].Count != 2 {
		t.Fatalf("Attempts after reopen = %+v, want A with 2", rows)
	}
}

// TestPrivate: the database holds password hashes; others cannot read it.
func TestPrivate(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"new.db": 0, "old.db": 0o644} {
		path := filepath.Join(dir, name)
		if mode != 0 {
			os.WriteFile(path, nil, mode)
			os.Chmod(path, mode)
		}
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddUser(context.Background(), User{Name: "u", Role: RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s: mode %v, want no access for others", name, st.Mode().Perm())
		}
	}
}

// TestMigrateOldDatabase: a database from before schema versions (and
// before the quarantine's whole column) is adopted as version 1 and
// brought up to date; one from a newer qscan is refused.
func TestMigrateOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE attempts (id TEXT PRIMARY KEY, count INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL);
		CREATE TABLE quarantine (id TEXT PRIMARY KEY, queue_id TEXT NOT NULL, dir TEXT NOT NULL, time INTEGER NOT NULL, sender TEXT NOT NULL,
			recipients TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0);
		INSERT INTO quarantine VALUES('20261122/X', 'X', '/q/20261122/X', 1800000000, 'a@b', '["c@d"]', 's', 'r', 0);
		INSERT INTO attempts VALUES('X', 2, 1, 1);`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Version(ctx); err != nil || v != SchemaVersion() {
		t.Errorf("Version = %d, %v; want %d", v, err, SchemaVersion())
	}
	es, err := s.QuarantineIndex().List(ctx, time.Time{}, 10)
	if err != nil || len(es) != 1 || es[0].Whole {
		t.Errorf("quarantine index after migration = %+v, %v; want the old row, parts", es, err)
	}
	if rows, _ := s.Attempts(ctx, 1); len(rows) != 1 || rows[0].Count != 2 {
		t.Errorf("attempts after migration = %+v", rows)
	}
	if _, err := s.DB().Exec(`INSERT INTO schema_version VALUES(?, 'from the future', 0)`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Error("Open(database of a newer schema) = nil error, want one")
	}
}
