package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qscan/qscan/pkg/store"
)

// Keyed is a log record with its idempotency key: the outbox that sent it
// (Src: host and outbox epoch) and its place there (Seq).
type Keyed struct {
	Seq int64
	Rec store.LogRecord
}

// AppendLog writes the records of one batch in one transaction.
func (s *Store) AppendLog(ctx context.Context, recs []store.LogRecord) error {
	ks := make([]Keyed, len(recs))
	for i, r := range recs {
		ks[i] = Keyed{Rec: r}
	}
	_, err := s.appendKeyed(ctx, "", ks)
	return err
}

const insertLog = `INSERT INTO log(time, host, src, seq, queue_id, sender, recipients, subject, size, verdict, spam_score,
	quarantine, stages, detail, search, keys, viruses, filenames)
	VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
	ON CONFLICT (src, seq) DO NOTHING`

// appendKeyed inserts recs in one transaction; a record whose key (src,
// Seq) is stored already is skipped. src "" writes records without a key.
// It returns how many rows it inserted.
func (s *Store) appendKeyed(ctx context.Context, src string, recs []Keyed) (int64, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("pgstore append log: %w", err)
	}
	defer tx.Rollback(ctx)
	n, err := insertKeyed(ctx, tx, src, recs)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("pgstore append log: commit: %w", err)
	}
	return n, nil
}

// insertKeyed queues the inserts of recs in one round trip on tx.
func insertKeyed(ctx context.Context, tx pgx.Tx, src string, recs []Keyed) (int64, error) {
	var b pgx.Batch
	for _, k := range recs {
		args, err := logArgs(src, k)
		if err != nil {
			return 0, fmt.Errorf("pgstore append log %s: %w", k.Rec.QueueID, err)
		}
		b.Queue(insertLog, args...)
	}
	br := tx.SendBatch(ctx, &b)
	var n int64
	for _, k := range recs {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return n, fmt.Errorf("pgstore append log %s: %w", k.Rec.QueueID, err)
		}
		n += tag.RowsAffected()
	}
	if err := br.Close(); err != nil {
		return n, fmt.Errorf("pgstore append log: %w", err)
	}
	return n, nil
}

func logArgs(src string, k Keyed) ([]any, error) {
	r := store.BoundRecord(k.Rec)
	e, err := store.EncodeRecord(r)
	if err != nil {
		return nil, err
	}
	var viruses, files []string
	for _, t := range store.Tags(r) {
		if t[0] == "virus" {
			viruses = append(viruses, t[1])
		} else {
			files = append(files, t[1])
		}
	}
	var srcArg, seqArg any
	if src != "" {
		srcArg, seqArg = src, k.Seq
	}
	return []any{r.Time.UnixMicro(), r.Host, srcArg, seqArg, r.QueueID, r.Sender, e.Recipients, r.Subject, r.Size, r.Verdict,
		r.SpamScore, r.Quarantine, e.Stages, e.Detail, searchText(r), store.NonNil(store.ScopeKeys(r.Sender, r.Recipients)),
		store.NonNil(viruses), store.NonNil(files)}, nil
}

// searchText is what a word search looks in: the sender, the recipients
// and the subject, lower case, one a line (split_part picks one).
func searchText(r store.LogRecord) string {
	line := func(s string) string { return strings.ToLower(strings.NewReplacer("\n", " ", "\r", " ").Replace(s)) }
	return line(r.Sender) + "\n" + line(strings.Join(r.Recipients, " ")) + "\n" + line(r.Subject)
}

const logColumns = `l.rid, l.time, l.host, l.queue_id, l.sender, l.recipients, l.subject, l.size, l.verdict, l.spam_score,
	l.quarantine, l.stages, l.detail`

func scanLog(row pgx.Row) (store.LogRecord, error) {
	var r store.LogRecord
	var t int64
	var e store.EncodedRecord
	if err := row.Scan(&r.Row, &t, &r.Host, &r.QueueID, &r.Sender, &e.Recipients, &r.Subject, &r.Size, &r.Verdict,
		&r.SpamScore, &r.Quarantine, &e.Stages, &e.Detail); err != nil {
		return r, err
	}
	return r, store.DecodeRecord(&r, t, e)
}

// LogRow returns the row numbered row, or store.ErrNotFound.
func (s *Store) LogRow(ctx context.Context, row int64) (store.LogRecord, error) {
	r, err := scanLog(s.pool.QueryRow(ctx, `SELECT `+logColumns+` FROM log l WHERE l.rid = $1`, row))
	if err != nil {
		return r, fmt.Errorf("pgstore log row %d: %w", row, notFound(err))
	}
	return r, nil
}

// purgeChunk is how many rows one PurgeLog statement deletes.
const purgeChunk = 5000

// PurgeLog deletes the log rows older than before and returns how many
// it deleted; digest links that expired before before go too.
func (s *Store) PurgeLog(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM log WHERE rid IN (SELECT rid FROM log WHERE time < $1 ORDER BY time LIMIT $2)`,
			before.UnixMicro(), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("pgstore purge log: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < purgeChunk {
			break
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE expires < $1`, before.Unix()); err != nil {
		return total, fmt.Errorf("pgstore purge tokens: %w", err)
	}
	return total, nil
}
