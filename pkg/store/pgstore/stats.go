package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// maxStageRows bounds the rows the stage times are taken from (an even
// sample beyond), as in the SQLite store.
const maxStageRows = 10000

// LogStats counts the rows of [since, until) by verdict in buckets of
// bucket, lists the top most frequent virus names, blocked file names and
// spam senders, and gives each stage's mean and 99th-percentile time.
func (s *Store) LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error) {
	var st store.Stats
	if bucket <= 0 || !until.After(since) {
		return st, fmt.Errorf("pgstore log stats: empty period or bucket")
	}
	n := int64(until.Sub(since) / bucket)
	if until.Sub(since)%bucket != 0 {
		n++
	}
	if n > store.MaxStatsBuckets {
		return st, fmt.Errorf("pgstore log stats: %d buckets (at most %d)", n, store.MaxStatsBuckets)
	}
	top = max(1, min(top, store.MaxStatsTop))
	from, to, width := since.UnixMicro(), until.UnixMicro(), bucket.Microseconds()
	st.Buckets = make([]store.StatsBucket, n)
	for i := range st.Buckets {
		st.Buckets[i] = store.StatsBucket{Start: since.Add(time.Duration(i) * bucket), ByVerdict: map[string]int64{}}
	}
	rows, err := s.pool.Query(ctx, `SELECT (time - $1) / $2, verdict, count(*) FROM log WHERE time >= $1 AND time < $3 GROUP BY 1, 2`,
		from, width, to)
	if err != nil {
		return st, fmt.Errorf("pgstore log stats: %w", err)
	}
	for rows.Next() {
		var b, c int64
		var v string
		if err := rows.Scan(&b, &v, &c); err != nil {
			rows.Close()
			return st, fmt.Errorf("pgstore log stats: %w", err)
		}
		if b >= 0 && b < n {
			st.Buckets[b].ByVerdict[v] += c
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("pgstore log stats: %w", err)
	}
	if st.TopViruses, err = s.counts(ctx, `SELECT v, count(*) FROM log, unnest(viruses) v WHERE time >= $1 AND time < $2
		GROUP BY v ORDER BY 2 DESC, v COLLATE "C" LIMIT $3`, from, to, top); err != nil {
		return st, err
	}
	if st.TopFilenames, err = s.counts(ctx, `SELECT f, count(*) FROM log, unnest(filenames) f WHERE time >= $1 AND time < $2
		GROUP BY f ORDER BY 2 DESC, f COLLATE "C" LIMIT $3`, from, to, top); err != nil {
		return st, err
	}
	if st.TopSpamSenders, err = s.counts(ctx, `SELECT sender, count(*) FROM log WHERE verdict = ANY($4) AND time >= $1 AND time < $2
		GROUP BY sender ORDER BY 2 DESC, sender COLLATE "C" LIMIT $3`, from, to, top, store.SpamVerdicts); err != nil {
		return st, err
	}
	st.Stages, err = s.stageStats(ctx, from, to)
	return st, err
}

func (s *Store) counts(ctx context.Context, q string, args ...any) ([]store.Count, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore log stats: %w", err)
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Key, &c.N); err != nil {
			return nil, fmt.Errorf("pgstore log stats: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// stageStats reads the stage times of the period (every step-th row when
// there are more than maxStageRows) into a histogram per stage.
func (s *Store) stageStats(ctx context.Context, from, to int64) (map[string]store.StageMS, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM log WHERE time >= $1 AND time < $2`, from, to).Scan(&n); err != nil {
		return nil, fmt.Errorf("pgstore log stats: %w", err)
	}
	step := max(1, (n+maxStageRows-1)/maxStageRows)
	rows, err := s.pool.Query(ctx, `SELECT stages FROM (SELECT stages, row_number() OVER (ORDER BY time, rid) AS n
		FROM log WHERE time >= $1 AND time < $2) t WHERE (n - 1) % $3 = 0`, from, to, step)
	if err != nil {
		return nil, fmt.Errorf("pgstore log stats: %w", err)
	}
	defer rows.Close()
	hist := map[string]map[int64]int64{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("pgstore log stats: %w", err)
		}
		var ms map[string]int64
		if json.Unmarshal([]byte(raw), &ms) != nil {
			continue
		}
		for k, v := range ms {
			if hist[k] == nil {
				hist[k] = map[int64]int64{}
			}
			hist[k][v]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore log stats: %w", err)
	}
	out := make(map[string]store.StageMS, len(hist))
	for k, h := range hist {
		out[k] = store.StageFromHistogram(h)
	}
	return out, nil
}
