package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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

// FuzzSearchText: no text typed into a search makes an invalid query
// (the words become quoted trigram phrases or escaped LIKE patterns).
func FuzzSearchText(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "q.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.AppendLog(ctx, []LogRecord{{QueueID: "A", Sender: "a\"b@x.org", Recipients: []string{"c@d.org"}, Subject: `NEAR(x y) AND "q" * ^z {sender}: %_\`}}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{`"`, `""`, `a"b`, `NEAR(x y)`, `{sender} : x`, `*`, `^z`, `%_\`, "\x00abc", "é\u202e", `AND OR NOT`, `-x`, `col:val`} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, text, sender string) {
		q := LogQuery{Text: text, Sender: sender, Limit: 5}
		text = strings.ReplaceAll(text, "\x00", " ")
		if len(strings.Fields(text)) > MaxSearchWords || len(strings.TrimSpace(sender)) > maxSearchTerm {
			return
		}
		for _, w := range strings.Fields(text) {
			if len(w) > maxSearchTerm {
				return
			}
		}
		for _, window := range []int{0, searchWindow} {
			s.window = window
			if _, err := s.SearchLog(ctx, q); err != nil {
				t.Fatalf("SearchLog(%q, sender %q): %v", text, sender, err)
			}
		}
	})
}

func TestInScope(t *testing.T) {
	r := LogRecord{Sender: "Alice@Example.org", Recipients: []string{"bob@example.net", "Carol@Other.test"}}
	for _, tc := range []struct {
		sc   *Scope
		want bool
	}{
		{nil, true},
		{&Scope{}, false},
		{&Scope{Domains: []string{"example.org"}}, true}, // from
		{&Scope{Domains: []string{"@OTHER.test"}}, true}, // to
		{&Scope{Domains: []string{"example.com"}}, false},
		{&Scope{Addresses: []string{"carol@other.test"}}, true},
		{&Scope{Addresses: []string{"alice@example.org"}}, false}, // a user sees mail to them, not from them
		{&Scope{Domains: []string{"org"}}, false},
	} {
		if got := InScope(r, tc.sc); got != tc.want {
			t.Errorf("InScope(%+v) = %v, want %v", tc.sc, got, tc.want)
		}
	}
}
