package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

// HostEntry is a quarantine entry of the shared index and the host that
// holds its files.
type HostEntry struct {
	Host string `json:"host"`
	quarantine.Entry
}

// queueQuarantine adds the statement of one outbox quarantine change of
// host to b.
func queueQuarantine(b *pgx.Batch, host string, row store.OutboxRow) error {
	switch row.Kind {
	case store.OutboxQuarAdd:
		var e quarantine.Entry
		if err := json.Unmarshal(row.Body, &e); err != nil {
			return err
		}
		rcpts, _ := json.Marshal(e.Recipients)
		var released int64
		if n := len(e.Released); n > 0 {
			released = e.Released[n-1].Time.Unix()
		}
		b.Queue(`INSERT INTO quarantine(host, id, queue_id, dir, time, sender, recipients, subject, reason, released, whole)
			VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT(host, id) DO UPDATE SET queue_id = excluded.queue_id, dir = excluded.dir, time = excluded.time,
				sender = excluded.sender, recipients = excluded.recipients, subject = excluded.subject,
				reason = excluded.reason, released = excluded.released, whole = excluded.whole`,
			host, e.ID, e.QueueID, e.Dir, e.Time.Unix(), store.Cut(e.Sender), string(rcpts), store.Cut(e.Subject), store.Cut(e.Reason), released, e.Whole)
	case store.OutboxQuarRemove, store.OutboxQuarMark:
		var m store.QuarMark
		if err := json.Unmarshal(row.Body, &m); err != nil {
			return err
		}
		if row.Kind == store.OutboxQuarRemove {
			b.Queue(`DELETE FROM quarantine WHERE host = $1 AND id = $2`, host, m.ID)
		} else {
			b.Queue(`UPDATE quarantine SET released = $3 WHERE host = $1 AND id = $2`, host, m.ID, m.Time.Unix())
		}
	default:
		return fmt.Errorf("unknown kind %q", row.Kind)
	}
	return nil
}

// QuarantineEntries lists the entries of every host quarantined at or
// after since (all when zero), newest first, at most limit (<= 0: 1000).
// Entries carry what the index keeps (times to the second, the last
// release's time).
func (s *Store) QuarantineEntries(ctx context.Context, since time.Time, limit int) ([]HostEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	var from int64 = -1 << 62
	if !since.IsZero() {
		from = since.Unix()
	}
	rows, err := s.pool.Query(ctx, `SELECT host, id, queue_id, dir, time, sender, recipients, subject, reason, released, whole
		FROM quarantine WHERE time >= $1 ORDER BY time DESC, host, id DESC LIMIT $2`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore quarantine list: %w", err)
	}
	defer rows.Close()
	var out []HostEntry
	for rows.Next() {
		var e HostEntry
		var t, released int64
		var rcpts string
		if err := rows.Scan(&e.Host, &e.ID, &e.QueueID, &e.Dir, &t, &e.Sender, &rcpts, &e.Subject, &e.Reason, &released, &e.Whole); err != nil {
			return nil, fmt.Errorf("pgstore quarantine list: %w", err)
		}
		e.Time = time.Unix(t, 0)
		if err := json.Unmarshal([]byte(rcpts), &e.Recipients); err != nil {
			return nil, fmt.Errorf("pgstore quarantine list: recipients of %s: %w", e.ID, err)
		}
		if released != 0 {
			e.Released = []quarantine.Release{{Time: time.Unix(released, 0)}}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Hosts lists the hosts of the group and when each last sent its outbox.
func (s *Store) Hosts(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT host, seen FROM hosts`)
	if err != nil {
		return nil, fmt.Errorf("pgstore hosts: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var h string
		var t int64
		if err := rows.Scan(&h, &t); err != nil {
			return nil, fmt.Errorf("pgstore hosts: %w", err)
		}
		out[h] = time.Unix(t, 0)
	}
	return out, rows.Err()
}
