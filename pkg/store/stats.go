package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// Bounds of LogStats.
const (
	MaxStatsBuckets = 10000
	MaxStatsTop     = 100
	// maxStageRows is how many rows the stage times are taken from: all
	// of them up to this, else an even sample (every n-th row). The 99th
	// percentile of 10,000 times rests on the 100 slowest.
	maxStageRows = 10000
)

// SpamVerdicts are the verdicts whose senders count as spam senders.
var SpamVerdicts = []string{"spam", "high-spam"}

// LogStats counts the rows of [since, until) by verdict in buckets of
// bucket, lists the top most frequent virus names, blocked file names and
// spam senders, and gives each stage's mean and 99th-percentile time.
func (s *Store) LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (Stats, error) {
	var st Stats
	if bucket <= 0 || !until.After(since) {
		return st, fmt.Errorf("store log stats: empty period or bucket")
	}
	n := int64(until.Sub(since) / bucket)
	if until.Sub(since)%bucket != 0 {
		n++
	}
	if n > MaxStatsBuckets {
		return st, fmt.Errorf("store log stats: %d buckets (at most %d)", n, MaxStatsBuckets)
	}
	top = max(1, min(top, MaxStatsTop))
	from, to := since.UnixMicro(), until.UnixMicro()
	st.Buckets = make([]StatsBucket, n)
	for i := range st.Buckets {
		st.Buckets[i] = StatsBucket{Start: since.Add(time.Duration(i) * bucket), ByVerdict: map[string]int64{}}
	}
	if err := s.buckets(ctx, st.Buckets, from, to, bucket.Microseconds()); err != nil {
		return st, fmt.Errorf("store log stats: %w", err)
	}
	var err error
	if st.TopViruses, err = s.counts(ctx, `SELECT name, count(*) FROM log_tag WHERE kind = 'virus' AND time >= ? AND time < ?
		GROUP BY name ORDER BY 2 DESC, 1 LIMIT ?`, from, to, top); err != nil {
		return st, err
	}
	if st.TopFilenames, err = s.counts(ctx, `SELECT name, count(*) FROM log_tag WHERE kind = 'filename' AND time >= ? AND time < ?
		GROUP BY name ORDER BY 2 DESC, 1 LIMIT ?`, from, to, top); err != nil {
		return st, err
	}
	if st.TopSpamSenders, err = s.counts(ctx, `SELECT sender, count(*) FROM log INDEXED BY log_verdict
		WHERE verdict IN (?, ?) AND time >= ? AND time < ? GROUP BY sender ORDER BY 2 DESC, 1 LIMIT ?`,
		SpamVerdicts[0], SpamVerdicts[1], from, to, top); err != nil {
		return st, err
	}
	st.Stages, err = s.stageStats(ctx, from, to)
	return st, err
}

// hourMicros is an hour in microseconds: the rollup's unit.
const hourMicros = int64(time.Hour / time.Microsecond)

// buckets counts the rows of [from, to) by verdict into buckets of width
// microseconds starting at from. When the buckets are whole hours on the
// hour (the dashboard's 24 hours and 30 days), the full hours come from
// the hourly rollup (log_hourly) and only the last, unfinished hour from
// the rows.
func (s *Store) buckets(ctx context.Context, bs []StatsBucket, from, to, width int64) error {
	if width%hourMicros != 0 || from%hourMicros != 0 {
		return s.bucketStats(ctx, bs, from, to, width)
	}
	last := to - to%hourMicros // the start of the hour of to
	if last > from {
		rows, err := s.db.QueryContext(ctx, `SELECT hour, verdict, n FROM log_hourly WHERE hour >= ? AND hour < ?`,
			from/hourMicros, last/hourMicros)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h, n int64
			var v string
			if err := rows.Scan(&h, &v, &n); err != nil {
				return err
			}
			if b := (h*hourMicros - from) / width; b >= 0 && b < int64(len(bs)) {
				bs[b].ByVerdict[v] += n
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if last < to {
		return s.bucketStats(ctx, bs, from, to, width, max(last, from))
	}
	return nil
}

// bucketStats counts the rows of [from, to) by verdict into buckets of
// width microseconds. It reads the verdict index one verdict at a time
// (finding the next verdict is one seek), so that it reads index entries
// of the period only, never the rows.
// Only rows at or after start[0], when given, are read.
func (s *Store) bucketStats(ctx context.Context, bs []StatsBucket, from, to, width int64, start ...int64) error {
	lo := from
	if len(start) > 0 {
		lo = start[0]
	}
	// The first time ">=": a verdict "" counts too. Verdicts are a few;
	// 1000 is a bound all the same.
	verdict, op := "", ">="
	for range 1000 {
		var next sql.NullString
		if err := s.db.QueryRowContext(ctx, `SELECT min(verdict) FROM log WHERE verdict `+op+` ?`, verdict).Scan(&next); err != nil {
			return err
		}
		op = ">"
		if !next.Valid {
			return nil
		}
		verdict = next.String
		rows, err := s.db.QueryContext(ctx, `SELECT (time - ?) / ?, count(*) FROM log INDEXED BY log_verdict
			WHERE verdict = ? AND time >= ? AND time < ? GROUP BY 1`, from, width, verdict, lo, to)
		if err != nil {
			return err
		}
		for rows.Next() {
			var b, c int64
			if err := rows.Scan(&b, &c); err != nil {
				rows.Close()
				return err
			}
			if b >= 0 && b < int64(len(bs)) {
				bs[b].ByVerdict[verdict] += c
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) counts(ctx context.Context, q string, args ...any) ([]Count, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store log stats: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Key, &c.N); err != nil {
			return nil, fmt.Errorf("store log stats: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// stageStats reads the stage times of the period (an even sample of at
// most maxStageRows rows) into a histogram per stage: times are whole
// milliseconds, so the distinct values are few and the 99th percentile is
// exact for the rows read.
func (s *Store) stageStats(ctx context.Context, from, to int64) (map[string]StageMS, error) {
	// Rows are numbered in the order they were written, which is the
	// order of their times but for a clock set back: the rows of the
	// period lie between the first and the last row of the period, and
	// an even sample of those numbers is an even sample of the period.
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT row FROM log WHERE time >= ? AND time < ? ORDER BY time LIMIT 1),
		(SELECT row FROM log WHERE time >= ? AND time < ? ORDER BY time DESC LIMIT 1)`, from, to, from, to).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("store log stats: %w", err)
	}
	if !lo.Valid || !hi.Valid {
		return map[string]StageMS{}, nil
	}
	first, last := min(lo.Int64, hi.Int64), max(lo.Int64, hi.Int64)
	step := max(1, (last-first+maxStageRows)/maxStageRows)
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE n(row) AS (SELECT ? UNION ALL SELECT row + ? FROM n WHERE row + ? <= ?)
		SELECT l.stages FROM n CROSS JOIN log l ON l.row = n.row WHERE l.time >= ? AND l.time < ?`,
		first, step, step, last, from, to)
	if err != nil {
		return nil, fmt.Errorf("store log stats: %w", err)
	}
	defer rows.Close()
	hist := map[string]map[int64]int64{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store log stats: %w", err)
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
		return nil, fmt.Errorf("store log stats: %w", err)
	}
	out := make(map[string]StageMS, len(hist))
	for k, h := range hist {
		out[k] = StageFromHistogram(h)
	}
	return out, nil
}

// StageFromHistogram gives the mean and the 99th percentile (nearest
// rank) of the values counted in h.
func StageFromHistogram(h map[int64]int64) StageMS {
	vals := make([]int64, 0, len(h))
	var n, sum int64
	for v, c := range h {
		vals = append(vals, v)
		n += c
		sum += v * c
	}
	if n == 0 {
		return StageMS{}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	rank := int64(math.Ceil(0.99 * float64(n)))
	var seen int64
	p99 := vals[len(vals)-1]
	for _, v := range vals {
		seen += h[v]
		if seen >= rank {
			p99 = v
			break
		}
	}
	return StageMS{Mean: float64(sum) / float64(n), P99: float64(p99)}
}
