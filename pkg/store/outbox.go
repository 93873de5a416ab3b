package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
)

// The outbox holds what this host sends to a shared PostgreSQL store
// (pkg/store/pgstore's Shipper), in the order it happened: message-log
// rows and quarantine index changes. It is written in the local database
// on the mail path, which PostgreSQL never is; rows leave it once
// PostgreSQL has them.

// Outbox kinds.
const (
	OutboxLog        = "log"                // body: a LogRecord
	OutboxQuarAdd    = "quarantine-add"     // body: a quarantine.Entry
	OutboxQuarRemove = "quarantine-remove"  // body: {"id": ...}
	OutboxQuarMark   = "quarantine-release" // body: {"id": ..., "time": ...}
)

// OutboxRow is one row of the outbox.
type OutboxRow struct {
	Seq  int64
	Kind string
	Time time.Time // when it was queued
	Body []byte
}

// OutboxItem is what Enqueue writes.
type OutboxItem struct {
	Kind string
	Body []byte
}

// QuarMark is the body of OutboxQuarRemove and OutboxQuarMark rows.
type QuarMark struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time,omitzero"`
}

// Enqueue appends items to the outbox in one durable transaction.
func (s *Store) Enqueue(ctx context.Context, items []OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store outbox: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO outbox(kind, time, body) VALUES(?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store outbox: %w", err)
	}
	defer ins.Close()
	now := time.Now().UnixMicro()
	for _, it := range items {
		if _, err := ins.ExecContext(ctx, it.Kind, now, string(it.Body)); err != nil {
			return fmt.Errorf("store outbox: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store outbox: commit: %w", err)
	}
	return nil
}

// OutboxNext returns the oldest n rows of the outbox, in order.
func (s *Store) OutboxNext(ctx context.Context, n int) ([]OutboxRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, time, body FROM outbox ORDER BY seq LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("store outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		var t int64
		var body string
		if err := rows.Scan(&r.Seq, &r.Kind, &t, &body); err != nil {
			return nil, fmt.Errorf("store outbox: %w", err)
		}
		r.Time, r.Body = time.UnixMicro(t), []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

// OutboxDone removes the rows up to seq (they were sent).
func (s *Store) OutboxDone(ctx context.Context, seq int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE seq <= ?`, seq); err != nil {
		return fmt.Errorf("store outbox done: %w", err)
	}
	return nil
}

// OutboxLag is how far behind the outbox is.
type OutboxLag struct {
	Rows   int64
	Oldest time.Time // when the oldest row waiting was queued; zero when none
}

// Age is how long the oldest row has waited at now (0 when none).
func (l OutboxLag) Age(now time.Time) time.Duration {
	if l.Rows == 0 || l.Oldest.IsZero() {
		return 0
	}
	return max(0, now.Sub(l.Oldest))
}

// OutboxLag counts the rows waiting and the time of the oldest.
func (s *Store) OutboxLag(ctx context.Context) (OutboxLag, error) {
	var l OutboxLag
	var t sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(time) FROM outbox`).Scan(&l.Rows, &t); err != nil {
		return l, fmt.Errorf("store outbox lag: %w", err)
	}
	if t.Valid {
		l.Oldest = time.UnixMicro(t.Int64)
	}
	return l, nil
}

// OutboxEpoch is the outbox's random name (made with the schema).
func (s *Store) OutboxEpoch(ctx context.Context) (string, error) {
	var e string
	if err := s.db.QueryRowContext(ctx, `SELECT epoch FROM outbox_epoch LIMIT 1`).Scan(&e); err != nil {
		return "", fmt.Errorf("store outbox epoch: %w", err)
	}
	return e, nil
}

// LogOutbox is the pipeline's LogSink when the message log is shared: a
// batch's records go into the outbox in one transaction, and Wake (when
// set) tells the sender.
type LogOutbox struct {
	S    *Store
	Wake func()
}

// AppendLog queues recs (bounded, as every store writes them).
func (o *LogOutbox) AppendLog(ctx context.Context, recs []LogRecord) error {
	items := make([]OutboxItem, 0, len(recs))
	for _, r := range recs {
		b, err := json.Marshal(BoundRecord(r))
		if err != nil {
			return fmt.Errorf("store outbox %s: %w", r.QueueID, err)
		}
		items = append(items, OutboxItem{OutboxLog, b})
	}
	if err := o.S.Enqueue(ctx, items); err != nil {
		return err
	}
	if o.Wake != nil {
		o.Wake()
	}
	return nil
}

// SharedIndex is the quarantine index of a host whose store is shared:
// each change is made in the local index and queued in the outbox, for
// the shared index to follow in order.
type SharedIndex struct {
	Local *QuarantineIndex
	Wake  func()
}

var _ quarantine.Index = (*SharedIndex)(nil)

func (x *SharedIndex) queue(kind string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := x.Local.s.Enqueue(context.Background(), []OutboxItem{{kind, b}}); err != nil {
		return err
	}
	if x.Wake != nil {
		x.Wake()
	}
	return nil
}

// Add indexes e locally and queues it.
func (x *SharedIndex) Add(e quarantine.Entry) error {
	if err := x.Local.Add(e); err != nil {
		return err
	}
	return x.queue(OutboxQuarAdd, e)
}

// Remove drops entry id locally and queues the removal.
func (x *SharedIndex) Remove(id string) error {
	if err := x.Local.Remove(id); err != nil {
		return err
	}
	return x.queue(OutboxQuarRemove, QuarMark{ID: id})
}

// MarkReleased records the release locally and queues it; the shared
// index is told even when the local one did not hold the entry.
func (x *SharedIndex) MarkReleased(id string, t time.Time) error {
	lerr := x.Local.MarkReleased(id, t)
	if err := x.queue(OutboxQuarMark, QuarMark{ID: id, Time: t}); err != nil {
		return err
	}
	return lerr
}
