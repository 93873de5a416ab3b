package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
)

// ErrNotIndexed is returned by MarkReleased for an entry the index does
// not hold (stored before the index was kept, for example).
var ErrNotIndexed = errors.New("store: quarantine entry not in the index")

// QuarantineIndex is the quarantine table: one row per quarantine entry,
// kept in step by pkg/quarantine. The files stay the source of truth.
type QuarantineIndex struct {
	s *Store
}

var _ quarantine.Index = (*QuarantineIndex)(nil)

// QuarantineIndex returns the quarantine index of s.
func (s *Store) QuarantineIndex() *QuarantineIndex { return &QuarantineIndex{s: s} }

// Add inserts entry e, or replaces the row with the same id (so that
// adding again what the files hold repairs the index).
func (x *QuarantineIndex) Add(e quarantine.Entry) error {
	rcpts, err := json.Marshal(e.Recipients)
	if err != nil {
		return fmt.Errorf("store quarantine add %s: %w", e.ID, err)
	}
	var released int64
	if n := len(e.Released); n > 0 {
		released = e.Released[n-1].Time.Unix()
	}
	_, err = x.s.db.Exec(`INSERT INTO quarantine(id, queue_id, dir, time, sender, recipients, subject, reason, released, whole)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET queue_id = excluded.queue_id, dir = excluded.dir, time = excluded.time,
			sender = excluded.sender, recipients = excluded.recipients, subject = excluded.subject,
			reason = excluded.reason, released = excluded.released, whole = excluded.whole`,
		e.ID, e.QueueID, e.Dir, e.Time.Unix(), e.Sender, string(rcpts), e.Subject, e.Reason, released, e.Whole)
	if err != nil {
		return fmt.Errorf("store quarantine add %s: %w", e.ID, err)
	}
	return nil
}

// Remove deletes the row of entry id; a missing row is not an error.
func (x *QuarantineIndex) Remove(id string) error {
	if _, err := x.s.db.Exec(`DELETE FROM quarantine WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store quarantine remove %s: %w", id, err)
	}
	return nil
}

// MarkReleased records that entry id was released at t.
func (x *QuarantineIndex) MarkReleased(id string, t time.Time) error {
	res, err := x.s.db.Exec(`UPDATE quarantine SET released = ? WHERE id = ?`, t.Unix(), id)
	if err != nil {
		return fmt.Errorf("store quarantine release %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store quarantine release %s: %w", id, ErrNotIndexed)
	}
	return nil
}

// List returns the indexed entries quarantined at or after since (all
// when zero), newest first, at most limit of them (limit <= 0: 1000).
// Times have a resolution of one second; an entry that was released has
// one Release with only its Time set (the index keeps the last one).
func (x *QuarantineIndex) List(ctx context.Context, since time.Time, limit int) ([]quarantine.Entry, error) {
	if limit <= 0 {
		limit = 1000
	}
	var from int64 = -1 << 62
	if !since.IsZero() {
		from = since.Unix()
	}
	rows, err := x.s.db.QueryContext(ctx, `SELECT id, queue_id, dir, time, sender, recipients, subject, reason, released, whole
		FROM quarantine WHERE time >= ? ORDER BY time DESC, id DESC LIMIT ?`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("store quarantine list: %w", err)
	}
	defer rows.Close()
	var out []quarantine.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store quarantine list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store quarantine list: %w", err)
	}
	return out, nil
}

func scanEntry(rows *sql.Rows) (quarantine.Entry, error) {
	var e quarantine.Entry
	var t, released int64
	var rcpts string
	if err := rows.Scan(&e.ID, &e.QueueID, &e.Dir, &t, &e.Sender, &rcpts, &e.Subject, &e.Reason, &released, &e.Whole); err != nil {
		return e, err
	}
	e.Time = time.Unix(t, 0)
	if err := json.Unmarshal([]byte(rcpts), &e.Recipients); err != nil {
		return e, fmt.Errorf("recipients of %s: %w", e.ID, err)
	}
	if released != 0 {
		e.Released = []quarantine.Release{{Time: time.Unix(released, 0)}}
	}
	return e, nil
}
