package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSearchWindow: a word search answers the same through its window of
// newest rows as through the trigram index, whether the window fills the
// page or not.
func TestSearchWindow(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []LogRecord
	for i := range 20 {
		subject := "plain"
		if i < 5 || i == 18 {
			subject = "rare word"
		}
		if i%2 == 0 {
			subject += " common"
		}
		recs = append(recs, LogRecord{Time: t0.Add(time.Duration(i) * time.Minute), QueueID: fmt.Sprint(i), Sender: "a@example.org",
			Recipients: []string{fmt.Sprintf("u%d@example.net", i%3)}, Subject: subject, Verdict: "clean"})
	}
	if err := s.AppendLog(ctx, recs); err != nil {
		t.Fatal(err)
	}
	queries := []LogQuery{
		{Text: "rare", Limit: 3}, {Text: "rare", Limit: 1}, {Text: "common", Limit: 2}, {Text: "common rare", Limit: 2},
		{Subject: "rare", Limit: 3}, {Text: "rare", Limit: 3, Scope: &Scope{Addresses: []string{"u0@example.net", "u1@example.net"}}},
		{Text: "common", Limit: 4, Scope: &Scope{Domains: []string{"example.net"}}},
		{Text: "rare", Limit: 2, Before: LogKey{Time: t0.Add(18 * time.Minute), Row: 19}},
	}
	for _, q := range queries {
		var got [2][]string
		for i, window := range []int{0, 3} {
			s.window = window
			rs, err := s.SearchLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				got[i] = append(got[i], r.QueueID)
			}
		}
		if !slices.Equal(got[0], got[1]) || len(got[0]) == 0 {
			t.Errorf("SearchLog(%+v): trigram index %v, window of 3 %v; want the same rows", q, got[0], got[1])
		}
	}
}
