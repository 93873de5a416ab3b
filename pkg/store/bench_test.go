package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// benchRows is how many log rows the benchmarks fill their database with
// (QSCAN_BENCH_ROWS overrides the 1,000,000 of issue 20).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("QSCAN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchEnd = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)

// fillLog writes n rows spread over the 90 days before benchEnd, in
// batches of 1000 as the pipeline would (bigger ones), with verdicts,
// senders and subjects drawn at random (fixed seed).
func fillLog(b *testing.B, s *store.Store, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"invoice", "meeting", "report", "offer", "update", "order", "delivery", "password", "account", "newsletter",
		"payment", "urgent", "hello", "minutes", "review", "contract", "photos", "ticket", "shipping", "welcome"}
	verdicts := []string{"clean", "clean", "clean", "clean", "clean", "clean", "clean", "spam", "spam", "high-spam"}
	span := 90 * 24 * time.Hour
	step := span / time.Duration(n)
	start := benchEnd.Add(-span)
	const batch = 1000
	recs := make([]store.LogRecord, 0, batch)
	for i := range n {
		v := verdicts[rng.IntN(len(verdicts))]
		if rng.IntN(100) == 0 {
			v = "infected"
		} else if rng.IntN(50) == 0 {
			v = "blocked"
		}
		r := store.LogRecord{
			Time: start.Add(time.Duration(i) * step), Host: "mx1", QueueID: fmt.Sprintf("Q%013d", i),
			Sender:     fmt.Sprintf("user%d@sender%d.example", rng.IntN(50000), rng.IntN(2000)),
			Recipients: []string{fmt.Sprintf("local%d@dom%d.test", rng.IntN(5000), rng.IntN(20))},
			Subject:    words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " " + strconv.Itoa(rng.IntN(100000)),
			Size:       int64(2000 + rng.IntN(100000)), Verdict: v, SpamScore: rng.Float64() * 20,
			StageMS: map[string]int64{"explode": int64(rng.IntN(5)), "virus": int64(rng.IntN(40)), "spam": int64(rng.IntN(300))},
		}
		if v == "infected" {
			r.Viruses = []string{"Eicar-Test-Signature"}
		}
		if v == "blocked" {
			r.Reports = []store.LogReport{{Kind: "filename", Text: "blocked", Removed: true, Filename: "invoice.exe"}}
		}
		recs = append(recs, r)
		if len(recs) == batch || i == n-1 {
			if err := s.AppendLog(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// BenchmarkSearchLog reads one page of 50 rows of the message log in a
// database of benchRows rows. Issue 20 wants a page under 200 ms.
func BenchmarkSearchLog(b *testing.B) {
	n := benchRows()
	// QSCAN_BENCH_DB keeps the filled database for the next run (it takes
	// minutes to fill); by default it is a temporary file.
	path := os.Getenv("QSCAN_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	s, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if have, err := s.SearchLog(ctx, store.LogQuery{Limit: 1}); err != nil || len(have) == 0 {
		t := time.Now()
		fillLog(b, s, n)
		b.Logf("filled %d rows in %v (%.0f rows/s)", n, time.Since(t).Round(time.Millisecond), float64(n)/time.Since(t).Seconds())
	}
	mid, err := s.SearchLog(ctx, store.LogQuery{Until: benchEnd.Add(-45 * 24 * time.Hour), Limit: 1})
	if err != nil || len(mid) != 1 {
		b.Fatalf("middle row: %v, %v", mid, err)
	}
	deep := store.LogKey{Time: mid[0].Time, Row: mid[0].Row}
	queries := []struct {
		name string
		q    store.LogQuery
	}{
		{"first-page", store.LogQuery{}},
		{"deep-page", store.LogQuery{Before: deep}},
		{"verdict-infected", store.LogQuery{Verdict: "infected"}},
		{"verdict-infected-deep", store.LogQuery{Verdict: "infected", Before: deep}},
		{"text-common-word", store.LogQuery{Text: "invoice"}},
		{"text-two-words", store.LogQuery{Text: "invoice urgent"}},
		{"text-rare", store.LogQuery{Text: "user4242@"}},
		{"text-absent", store.LogQuery{Text: "nosuchthing"}},
		{"sender", store.LogQuery{Sender: "user123@sender"}},
		{"queue-id", store.LogQuery{QueueID: "Q0000000500000"}},
		{"last-24h", store.LogQuery{Since: benchEnd.Add(-24 * time.Hour)}},
		{"scope-domain", store.LogQuery{Scope: &store.Scope{Domains: []string{"dom7.test"}}}},
		{"scope-domain-deep", store.LogQuery{Scope: &store.Scope{Domains: []string{"dom7.test"}}, Before: deep}},
		{"scope-3-domains-text", store.LogQuery{Scope: &store.Scope{Domains: []string{"dom1.test", "dom2.test", "dom3.test"}}, Text: "invoice"}},
		{"scope-user", store.LogQuery{Scope: &store.Scope{Addresses: []string{"local42@dom3.test", "local42@dom4.test"}}}},
	}
	for _, tc := range queries {
		b.Run(tc.name, func(b *testing.B) {
			tc.q.Limit = 50
			for b.Loop() {
				if _, err := s.SearchLog(ctx, tc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, p := range []struct {
		name          string
		span, buckets time.Duration
	}{{"stats-24h", 24 * time.Hour, time.Hour}, {"stats-30d", 30 * 24 * time.Hour, 24 * time.Hour}} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.LogStats(ctx, benchEnd.Add(-p.span), benchEnd, p.buckets, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendLog writes batches of 30 records (the default batch) to
// a log of growing size: the cost the pipeline pays once per batch.
func BenchmarkAppendLog(b *testing.B) {
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := make([]store.LogRecord, 30)
	for i := range recs {
		recs[i] = store.LogRecord{Host: "mx1", QueueID: fmt.Sprintf("6AM8Fa4W%06d", i), Sender: fmt.Sprintf("sender%d@example.org", i),
			Recipients: []string{"alice@example.net", "bob@example.net"}, Subject: "Quarterly report and invoice " + strconv.Itoa(i),
			Size: 12345, Verdict: "clean", SpamScore: 1.5, SpamRules: []string{"BAYES_00 -1.90", "HTML_MESSAGE 0.00"},
			Actions: []string{"delivered"}, StageMS: map[string]int64{"explode": 1, "virus": 12, "spam": 80}}
	}
	t := time.Now()
	for b.Loop() {
		for i := range recs {
			recs[i].Time = t
			t = t.Add(time.Second)
		}
		if err := s.AppendLog(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(recs)), "µs/record")
}
