// Package store is qscan's database (SQLite through modernc.org/sqlite):
// processing attempts per message, the quarantine index, the message log,
// and the web desk's users, lists, audit log and used digest links. The
// schema is versioned (migrate.go); storetest is the suite every store
// implementation passes.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Store is an open database.
type Store struct {
	db     *sql.DB
	window int // searchWindow; tests make it small
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date (Migrate). Writes are durable when they return
// (synchronous=FULL): the attempts counter must survive the crash it is
// there to count.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	if err := private(path); err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	// Transactions take the write lock when they begin (_txlock=immediate),
	// so that concurrent writers wait for each other (busy_timeout) instead
	// of failing when a read turns into a write. Readers (the web desk, a
	// search) do not block the writers in WAL mode.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	// A few connections: a slow search must not keep the pipeline's
	// attempts and log writes waiting for the one connection.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s := &Store{db: db, window: searchWindow}
	if _, err := s.Migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	return s, nil
}

// private makes the database file readable by its owner and group only:
// it holds password hashes. SQLite gives its journal files the database
// file's mode.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o007 != 0 {
		return f.Chmod(st.Mode().Perm() &^ 0o007)
	}
	return nil
}

// maxConns bounds the connections of one Store.
const maxConns = 4

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB gives other packages access for their own tables.
func (s *Store) DB() *sql.DB { return s.db }

// BumpAttempts adds one processing attempt to each id in one durable
// transaction and returns the new counts.
func (s *Store) BumpAttempts(ctx context.Context, ids []string, now time.Time) (map[string]int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store bump attempts: %w", err)
	}
	defer tx.Rollback()
	// One statement for the batch: preparing it costs more than running it.
	bump, err := tx.PrepareContext(ctx, `INSERT INTO attempts(id, count, first, last) VALUES(?, 1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET count = count + 1, last = excluded.last
		RETURNING count`)
	if err != nil {
		return nil, fmt.Errorf("store bump attempts: %w", err)
	}
	defer bump.Close()
	counts := make(map[string]int, len(ids))
	for _, id := range ids {
		var n int
		if err := bump.QueryRowContext(ctx, id, now.Unix(), now.Unix()).Scan(&n); err != nil {
			return nil, fmt.Errorf("store bump attempts %s: %w", id, err)
		}
		counts[id] = n
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store bump attempts: commit: %w", err)
	}
	return counts, nil
}

// UndoAttempt takes back one attempt (the message was held for a reason
// that is not its own fault, e.g. an engine was down).
func (s *Store) UndoAttempt(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE attempts SET count = count - 1 WHERE id = ? AND count > 0`, id)
	if err != nil {
		return fmt.Errorf("store undo attempt %s: %w", id, err)
	}
	return nil
}

// ClearAttempts forgets the counters of ids (they left the queue).
func (s *Store) ClearAttempts(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store clear attempts: %w", err)
	}
	defer tx.Rollback()
	del, err := tx.PrepareContext(ctx, `DELETE FROM attempts WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("store clear attempts: %w", err)
	}
	defer del.Close()
	for _, id := range ids {
		if _, err := del.ExecContext(ctx, id); err != nil {
			return fmt.Errorf("store clear attempts %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// Attempt is one row of the attempts table.
type Attempt struct {
	ID          string
	Count       int
	First, Last time.Time
}

// Attempts lists the messages with at least min attempts.
func (s *Store) Attempts(ctx context.Context, min int) ([]Attempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, count, first, last FROM attempts WHERE count >= ? ORDER BY first`, min)
	if err != nil {
		return nil, fmt.Errorf("store list attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var f, l int64
		if err := rows.Scan(&a.ID, &a.Count, &f, &l); err != nil {
			return nil, err
		}
		a.First, a.Last = time.Unix(f, 0), time.Unix(l, 0)
		out = append(out, a)
	}
	return out, rows.Err()
}
