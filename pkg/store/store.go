// Package store is qscan's embedded database (SQLite through
// modernc.org/sqlite): processing attempts per message, and the indexes
// that other parts of qscan keep (quarantine, engine state).
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
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS attempts (
	id      TEXT PRIMARY KEY,
	count   INTEGER NOT NULL,
	first   INTEGER NOT NULL,
	last    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
	id      TEXT PRIMARY KEY,
	queue_id TEXT NOT NULL,
	dir     TEXT NOT NULL,
	time    INTEGER NOT NULL,
	sender  TEXT NOT NULL,
	recipients TEXT NOT NULL,
	subject TEXT NOT NULL,
	reason  TEXT NOT NULL,
	released INTEGER NOT NULL DEFAULT 0,
	whole   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS quarantine_time ON quarantine(time);
`

// Open opens (creating if needed) the database at path. Writes are durable
// when Open returns from them (synchronous=FULL): the attempts counter must
// survive the crash it is there to count.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store open %s: schema: %w", path, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store open %s: schema: %w", path, err)
	}
	return &Store{db: db}, nil
}

// migrate adds the columns a database made by an older qscan lacks.
// Quarantine rows from before the whole column read as parts entries.
func migrate(db *sql.DB) error {
	if _, err := db.Exec(`SELECT whole FROM quarantine LIMIT 0`); err == nil {
		return nil
	}
	_, err := db.Exec(`ALTER TABLE quarantine ADD COLUMN whole INTEGER NOT NULL DEFAULT 0`)
	return err
}

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
