// Package storetest is the test suite every implementation of qscan's
// store (SQLite, PostgreSQL) passes: the message log, users, lists, the
// audit log, digest-link tokens and schema versions.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// Store is what the suite tests: the methods listed in pkg/store's
// logtypes.go, and the schema's versions.
type Store interface {
	Migrate(ctx context.Context) ([]int, error)
	Version(ctx context.Context) (int, error)

	AppendLog(ctx context.Context, recs []store.LogRecord) error
	SearchLog(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error)
	LogRow(ctx context.Context, row int64) (store.LogRecord, error)
	LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error)
	PurgeLog(ctx context.Context, before time.Time) (int64, error)

	AddUser(ctx context.Context, u store.User) error
	User(ctx context.Context, name string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	DeleteUser(ctx context.Context, name string) error
	SetPassword(ctx context.Context, name, hash string) error

	ListEntries(ctx context.Context, list string) ([]store.ListEntry, error)
	AddListEntry(ctx context.Context, e store.ListEntry) error
	DeleteListEntry(ctx context.Context, list, pattern string) error

	AddAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, limit int) ([]store.AuditEntry, error)

	UseToken(ctx context.Context, id string, expires time.Time) (bool, error)
}

// Open returns a new, empty store for one test (cleaned up by the test).
type Open func(t *testing.T) Store

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"Migrate", testMigrate},
		{"LogRoundTrip", testLogRoundTrip},
		{"LogRowNotFound", testLogRowNotFound},
		{"SearchFilters", testSearchFilters},
		{"SearchPaging", testSearchPaging},
		{"SearchScope", testSearchScope},
		{"SearchLimits", testSearchLimits},
		{"Bounds", testBounds},
		{"Stats", testStats},
		{"Purge", testPurge},
		{"Users", testUsers},
		{"Lists", testLists},
		{"Audit", testAudit},
		{"Token", testToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// T0 is the suite's clock: every time is relative to it.
var T0 = time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)

func ctx() context.Context { return context.Background() }

// rec is a log record at T0+min minutes.
func rec(id string, min int, from string, to []string, subject, verdict string) store.LogRecord {
	return store.LogRecord{Time: T0.Add(time.Duration(min) * time.Minute), Host: "mx1", QueueID: id, Sender: from,
		Recipients: to, Subject: subject, Size: 1000, Verdict: verdict}
}

func appendLog(t *testing.T, s Store, recs ...store.LogRecord) {
	t.Helper()
	if err := s.AppendLog(ctx(), recs); err != nil {
		t.Fatalf("AppendLog: %v", err)
	}
}

func search(t *testing.T, s Store, q store.LogQuery) []store.LogRecord {
	t.Helper()
	got, err := s.SearchLog(ctx(), q)
	if err != nil {
		t.Fatalf("SearchLog(%+v): %v", q, err)
	}
	return got
}

func ids(rs []store.LogRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.QueueID)
	}
	return out
}

func testMigrate(t *testing.T, s Store) {
	v, err := s.Version(ctx())
	if err != nil || v != store.SchemaVersion() {
		t.Fatalf("Version = %d, %v; want %d", v, err, store.SchemaVersion())
	}
	applied, err := s.Migrate(ctx())
	if err != nil || len(applied) != 0 {
		t.Fatalf("Migrate on a current schema = %v, %v; want nothing applied", applied, err)
	}
}

func full() store.LogRecord {
	r := rec("6AM8Fa4W008391", 0, "Alice@Example.org", []string{"bob@example.net", "carol@example.com"}, "Invoice 42 <script>", "infected")
	r.OutID = "6AM8Fa4W008392"
	r.Time = T0.Add(1234567 * time.Microsecond)
	r.ClientIP, r.Helo = "192.0.2.7", "mail.example.org"
	r.SpamScore, r.SpamRules = 3.5, []string{"BAYES_50", "HTML_MESSAGE"}
	r.Viruses = []string{"Eicar-Test-Signature"}
	r.Reports = []store.LogReport{
		{Kind: "virus", Part: "eicar.com", Text: "eicar.com: Eicar-Test-Signature", Removed: true},
		{Kind: "filename", Part: "a.zip/run.exe", Text: "run.exe: executable", Removed: true, Filename: "run.exe"},
	}
	r.Actions = []string{"cleaned", "quarantine-parts"}
	r.Quarantine = "20310304/6AM8Fa4W008391"
	r.StageMS = map[string]int64{"virus": 12, "spam": 40}
	r.Extra = map[string]string{"attempt": "1"}
	return r
}

func testLogRoundTrip(t *testing.T, s Store) {
	want := full()
	appendLog(t, s, want)
	got := search(t, s, store.LogQuery{})
	if len(got) != 1 || got[0].Row == 0 {
		t.Fatalf("SearchLog = %+v, want one row with its Row set", got)
	}
	one, err := s.LogRow(ctx(), got[0].Row)
	if err != nil {
		t.Fatalf("LogRow(%d): %v", got[0].Row, err)
	}
	for _, r := range []store.LogRecord{got[0], one} {
		if !r.Time.Equal(want.Time) {
			t.Errorf("Time = %v, want %v", r.Time, want.Time)
		}
		r.Time, r.Row = want.Time, 0
		if !reflect.DeepEqual(r, want) {
			t.Errorf("read back:\n got %+v\nwant %+v", r, want)
		}
	}
}

func testLogRowNotFound(t *testing.T, s Store) {
	if _, err := s.LogRow(ctx(), 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LogRow(absent) = %v, want ErrNotFound", err)
	}
}

func filterRows() []store.LogRecord {
	a := rec("A1", 1, "alice@example.org", []string{"bob@example.net"}, "Quarterly report", "clean")
	b := rec("B2", 2, "mallory@evil.test", []string{"bob@example.net", "dave@example.com"}, "WIN 100% a_prize", "spam")
	c := rec("C3", 3, "", []string{"postmaster@example.net"}, "Délivrance échouée", "clean")
	d := rec("D4", 4, "virus@evil.test", []string{"eve@example.org"}, "Invoice", "infected")
	d.Host = "mx2"
	e := rec("E5", 5, "alice@example.org", []string{"zed@example.com"}, "ok", "clean")
	return []store.LogRecord{a, b, c, d, e}
}

func testSearchFilters(t *testing.T, s Store) {
	appendLog(t, s, filterRows()...)
	tests := []struct {
		q    store.LogQuery
		want []string
	}{
		{store.LogQuery{}, []string{"E5", "D4", "C3", "B2", "A1"}},
		{store.LogQuery{Sender: "ALICE@"}, []string{"E5", "A1"}},
		{store.LogQuery{Sender: "ev"}, []string{"D4", "B2"}},             // short: not in the trigram index
		{store.LogQuery{Recipient: "bob@example"}, []string{"B2", "A1"}}, // any recipient
		{store.LogQuery{Recipient: "alice"}, []string{}},                 // the sender is no recipient
		{store.LogQuery{Subject: "quarterly"}, []string{"A1"}},           // case
		{store.LogQuery{Subject: "ÉCHOUÉE"}, []string{"C3"}},             // case beyond ASCII
		{store.LogQuery{Subject: "100%"}, []string{"B2"}},                // no wildcard
		{store.LogQuery{Subject: "%"}, []string{"B2"}},                   // short, no wildcard
		{store.LogQuery{Subject: "_"}, []string{"B2"}},                   // short, no wildcard
		{store.LogQuery{Text: "example.com"}, []string{"E5", "B2"}},      // recipients
		{store.LogQuery{Text: "alice report"}, []string{"A1"}},           // every word
		{store.LogQuery{Text: "evil invoice"}, []string{"D4"}},           // sender and subject
		{store.LogQuery{Text: "ok"}, []string{"E5"}},                     // short word
		{store.LogQuery{Text: `"quoted`}, []string{}},                    // quotes are text
		{store.LogQuery{QueueID: "C3"}, []string{"C3"}},                  // exact
		{store.LogQuery{QueueID: "C"}, []string{}},                       // exact
		{store.LogQuery{Verdict: "clean"}, []string{"E5", "C3", "A1"}},   //
		{store.LogQuery{Host: "mx2"}, []string{"D4"}},                    //
		{store.LogQuery{Since: T0.Add(2 * time.Minute)}, []string{"E5", "D4", "C3", "B2"}},
		{store.LogQuery{Until: T0.Add(2 * time.Minute)}, []string{"A1"}}, // until is exclusive
		{store.LogQuery{Since: T0.Add(2 * time.Minute), Until: T0.Add(4 * time.Minute), Text: "example.net"}, []string{"C3", "B2"}},
		{store.LogQuery{Verdict: "clean", Sender: "alice", Limit: 1}, []string{"E5"}},
	}
	for _, tc := range tests {
		if got := ids(search(t, s, tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("SearchLog(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// page reads every row q selects, n at a time, and checks the order.
func page(t *testing.T, s Store, q store.LogQuery, n int) []string {
	t.Helper()
	var all []string
	q.Limit = n
	var last store.LogRecord
	for i := 0; i < 1000; i++ {
		got := search(t, s, q)
		for _, r := range got {
			if len(all) > 0 && (r.Time.After(last.Time) || r.Time.Equal(last.Time) && r.Row >= last.Row) {
				t.Fatalf("row %s (%v, %d) after %s (%v, %d): not newest first", r.QueueID, r.Time, r.Row, last.QueueID, last.Time, last.Row)
			}
			all, last = append(all, r.QueueID), r
		}
		if len(got) < n {
			return all
		}
		q.Before = store.LogKey{Time: last.Time, Row: last.Row}
	}
	t.Fatal("paging does not end")
	return nil
}

func testSearchPaging(t *testing.T, s Store) {
	var recs []store.LogRecord
	for i := range 25 {
		// Three rows a minute: rows with the same time are ordered by row.
		recs = append(recs, rec(fmt.Sprintf("P%02d", i), i/3, "a@example.org", []string{"b@example.org"}, "s", "clean"))
	}
	// Written in two batches, the second older than the first.
	appendLog(t, s, recs[10:]...)
	appendLog(t, s, recs[:10]...)
	got := page(t, s, store.LogQuery{}, 4)
	if len(got) != 25 {
		t.Fatalf("paging read %d rows %v, want 25", len(got), got)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("row %s read twice: %v", id, got)
		}
		seen[id] = true
	}
	if got[0] != "P24" || got[24] != "P00" && got[24] != "P01" && got[24] != "P02" {
		t.Errorf("paging = %v, want P24 first and a row of minute 0 last", got)
	}
}

func testSearchScope(t *testing.T, s Store) {
	appendLog(t, s, filterRows()...)
	tests := []struct {
		scope *store.Scope
		q     store.LogQuery
		want  []string
	}{
		// To or from the domain; B2 to two recipients of it, once.
		{&store.Scope{Domains: []string{"Example.NET"}}, store.LogQuery{}, []string{"C3", "B2", "A1"}},
		{&store.Scope{Domains: []string{"example.org"}}, store.LogQuery{}, []string{"E5", "D4", "A1"}}, // from alice, to eve
		{&store.Scope{Domains: []string{"example.org", "example.com"}}, store.LogQuery{}, []string{"E5", "D4", "B2", "A1"}},
		// A user sees the mail to their addresses, not from them.
		{&store.Scope{Addresses: []string{"Bob@example.net"}}, store.LogQuery{}, []string{"B2", "A1"}},
		{&store.Scope{Addresses: []string{"alice@example.org"}}, store.LogQuery{}, []string{}},
		{&store.Scope{}, store.LogQuery{}, []string{}},
		// The other filters still apply.
		{&store.Scope{Addresses: []string{"bob@example.net"}}, store.LogQuery{Verdict: "spam"}, []string{"B2"}},
		{&store.Scope{Addresses: []string{"bob@example.net"}}, store.LogQuery{Text: "quarterly"}, []string{"A1"}},
		{&store.Scope{Domains: []string{"example.net"}}, store.LogQuery{Until: T0.Add(3 * time.Minute)}, []string{"B2", "A1"}},
		{&store.Scope{Domains: []string{"example.net"}}, store.LogQuery{Since: T0.Add(2 * time.Minute), Limit: 1}, []string{"C3"}},
	}
	for _, tc := range tests {
		tc.q.Scope = tc.scope
		if got := ids(search(t, s, tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("SearchLog(scope %+v, %+v) = %v, want %v", *tc.scope, tc.q, got, tc.want)
		}
	}
	// Paging within a scope: every row once.
	got := page(t, s, store.LogQuery{Scope: &store.Scope{Domains: []string{"example.org", "example.net", "example.com"}}}, 2)
	if want := []string{"E5", "D4", "C3", "B2", "A1"}; !slices.Equal(got, want) {
		t.Errorf("paging a scope two rows at a time = %v, want %v", got, want)
	}
}

func testSearchLimits(t *testing.T, s Store) {
	var recs []store.LogRecord
	for i := range store.MaxLogLimit + 1 {
		recs = append(recs, rec(fmt.Sprint(i), 0, "a@b.c", []string{"d@e.f"}, "s", "clean"))
	}
	appendLog(t, s, recs...)
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultLogLimit}, {3, 3}, {store.MaxLogLimit, store.MaxLogLimit}, {store.MaxLogLimit + 1, store.MaxLogLimit}} {
		if got := len(search(t, s, store.LogQuery{Limit: tc.limit})); got != tc.want {
			t.Errorf("SearchLog(Limit %d) gave %d rows, want %d", tc.limit, got, tc.want)
		}
	}
	words := strings.Repeat("w ", store.MaxSearchWords)
	if _, err := s.SearchLog(ctx(), store.LogQuery{Text: words}); err != nil {
		t.Errorf("SearchLog(%d words): %v", store.MaxSearchWords, err)
	}
	if _, err := s.SearchLog(ctx(), store.LogQuery{Text: words + "w"}); err == nil {
		t.Errorf("SearchLog(%d words) = nil error, want one", store.MaxSearchWords+1)
	}
	many := &store.Scope{}
	for i := range store.MaxScopeKeys {
		many.Domains = append(many.Domains, fmt.Sprintf("d%d.test", i))
	}
	if _, err := s.SearchLog(ctx(), store.LogQuery{Scope: many}); err != nil {
		t.Errorf("SearchLog(scope of %d): %v", store.MaxScopeKeys, err)
	}
	many.Addresses = []string{"one@more.test"}
	if _, err := s.SearchLog(ctx(), store.LogQuery{Scope: many}); err == nil {
		t.Errorf("SearchLog(scope of %d) = nil error, want one", store.MaxScopeKeys+1)
	}
}

func testBounds(t *testing.T, s Store) {
	r := rec("BIG", 0, "a@b.c", nil, strings.Repeat("é", 2000), "clean")
	for i := range store.MaxLogRecipients + 5 {
		r.Recipients = append(r.Recipients, fmt.Sprintf("r%d@example.org", i))
	}
	ok := rec("OK", 1, "a@b.c", r.Recipients[:store.MaxLogRecipients], "s", "clean")
	appendLog(t, s, r, ok)
	got := search(t, s, store.LogQuery{})
	if len(got) != 2 {
		t.Fatalf("SearchLog = %d rows, want 2", len(got))
	}
	big, small := got[1], got[0]
	if len(big.Recipients) != store.MaxLogRecipients || big.Extra["recipients_cut"] != "5" {
		t.Errorf("%d recipients stored as %d, extra %v; want %d and recipients_cut=5",
			store.MaxLogRecipients+5, len(big.Recipients), big.Extra, store.MaxLogRecipients)
	}
	if len(small.Recipients) != store.MaxLogRecipients || small.Extra != nil {
		t.Errorf("%d recipients stored as %d, extra %v; want all, no extra", store.MaxLogRecipients, len(small.Recipients), small.Extra)
	}
	if len(big.Subject) > 1000 || !strings.HasPrefix(strings.Repeat("é", 2000), big.Subject) || big.Subject == "" {
		t.Errorf("subject of 4000 bytes stored as %d bytes, want a prefix of at most 1000 on a character boundary", len(big.Subject))
	}
}

func testStats(t *testing.T, s Store) {
	var recs []store.LogRecord
	add := func(min int, verdict, from string, viruses []string, file string, ms int64) {
		r := rec(fmt.Sprint(len(recs)), min, from, []string{"u@example.org"}, "s", verdict)
		r.Viruses = viruses
		if file != "" {
			r.Reports = []store.LogReport{{Kind: "filename", Text: "blocked", Removed: true, Filename: file}}
		}
		r.StageMS = map[string]int64{"virus": ms}
		recs = append(recs, r)
	}
	for i := range 98 {
		add(i%60, "clean", "ham@example.org", nil, "", 10)
	}
	add(5, "infected", "v@evil.test", []string{"Eicar", "Other"}, "", 10)
	add(65, "infected", "v@evil.test", []string{"Eicar"}, "", 1000) // the second hour
	add(66, "blocked", "b@evil.test", nil, "run.exe", 10)
	add(67, "spam", "spammer@evil.test", nil, "", 10)
	add(68, "high-spam", "spammer@evil.test", nil, "", 10)
	add(69, "spam", "other@evil.test", nil, "", 10)
	add(-1, "spam", "early@evil.test", nil, "", 10) // before the period
	add(120, "spam", "late@evil.test", nil, "", 10) // after it
	add(119, "blocked", "b@evil.test", nil, "a.scr", 10)
	appendLog(t, s, recs...)
	st, err := s.LogStats(ctx(), T0, T0.Add(2*time.Hour), time.Hour, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Buckets) != 2 || !st.Buckets[0].Start.Equal(T0) || !st.Buckets[1].Start.Equal(T0.Add(time.Hour)) {
		t.Fatalf("buckets %+v, want two, hourly from T0", st.Buckets)
	}
	want0 := map[string]int64{"clean": 98, "infected": 1}
	want1 := map[string]int64{"infected": 1, "blocked": 2, "spam": 2, "high-spam": 1}
	if !reflect.DeepEqual(st.Buckets[0].ByVerdict, want0) || !reflect.DeepEqual(st.Buckets[1].ByVerdict, want1) {
		t.Errorf("by verdict %v, %v; want %v, %v", st.Buckets[0].ByVerdict, st.Buckets[1].ByVerdict, want0, want1)
	}
	if want := []store.Count{{Key: "Eicar", N: 2}, {Key: "Other", N: 1}}; !reflect.DeepEqual(st.TopViruses, want) {
		t.Errorf("top viruses %v, want %v", st.TopViruses, want)
	}
	if want := []store.Count{{Key: "a.scr", N: 1}, {Key: "run.exe", N: 1}}; !reflect.DeepEqual(st.TopFilenames, want) {
		t.Errorf("top filenames %v, want %v", st.TopFilenames, want)
	}
	if want := []store.Count{{Key: "spammer@evil.test", N: 2}, {Key: "other@evil.test", N: 1}}; !reflect.DeepEqual(st.TopSpamSenders, want) {
		t.Errorf("top spam senders %v, want %v", st.TopSpamSenders, want)
	}
	// 105 rows in the period: 104 at 10 ms, one at 1000 ms; the 99th
	// percentile (rank 104) is 10, the mean (104*10+1000)/105.
	v := st.Stages["virus"]
	if wantMean := (104.0*10 + 1000) / 105; v.P99 != 10 || v.Mean < wantMean-0.001 || v.Mean > wantMean+0.001 {
		t.Errorf("stage virus = %+v, want mean %.3f, p99 10", v, wantMean)
	}
	checkBuckets(t, s, recs)
	if _, err := s.LogStats(ctx(), T0, T0, time.Hour, 5); err == nil {
		t.Error("LogStats of an empty period = nil error, want one")
	}
	if _, err := s.LogStats(ctx(), T0, T0.Add(store.MaxStatsBuckets*time.Second), time.Second, 5); err != nil {
		t.Errorf("LogStats of %d buckets: %v", store.MaxStatsBuckets, err)
	}
	if _, err := s.LogStats(ctx(), T0, T0.Add((store.MaxStatsBuckets+1)*time.Second), time.Second, 5); err == nil {
		t.Errorf("LogStats of %d buckets = nil error, want one", store.MaxStatsBuckets+1)
	}
}

// checkBuckets compares the counts by verdict of LogStats with those
// counted from recs, for periods on and off the hour.
func checkBuckets(t *testing.T, s Store, recs []store.LogRecord) {
	t.Helper()
	for _, p := range []struct {
		since, until time.Duration
		bucket       time.Duration
	}{
		{0, 2 * time.Hour, time.Hour}, {0, 90 * time.Minute, time.Hour}, {30 * time.Minute, 2 * time.Hour, 30 * time.Minute},
		{-time.Hour, 3 * time.Hour, 2 * time.Hour}, {time.Second, 3 * time.Hour, time.Hour}, {-5 * time.Minute, 65 * time.Minute, 10 * time.Minute},
	} {
		since, until := T0.Add(p.since), T0.Add(p.until)
		st, err := s.LogStats(ctx(), since, until, p.bucket, 5)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]map[string]int64, len(st.Buckets))
		for i := range want {
			want[i] = map[string]int64{}
		}
		for _, r := range recs {
			if !r.Time.Before(since) && r.Time.Before(until) {
				want[int(r.Time.Sub(since)/p.bucket)][r.Verdict]++
			}
		}
		for i, b := range st.Buckets {
			if !reflect.DeepEqual(b.ByVerdict, want[i]) {
				t.Errorf("LogStats(T0%+v, T0%+v, %v) bucket %d = %v, want %v", p.since, p.until, p.bucket, i, b.ByVerdict, want[i])
			}
		}
	}
}

func testPurge(t *testing.T, s Store) {
	old := rec("OLD", 0, "a@example.org", []string{"b@example.org"}, "findme", "infected")
	old.Viruses = []string{"Eicar"}
	keep := rec("KEEP", 10, "a@example.org", []string{"b@example.org"}, "findme", "clean")
	appendLog(t, s, old, keep)
	n, err := s.PurgeLog(ctx(), T0.Add(5*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PurgeLog = %d, %v; want 1", n, err)
	}
	for _, q := range []store.LogQuery{{}, {Text: "findme"}, {Scope: &store.Scope{Domains: []string{"example.org"}}}} {
		if got := ids(search(t, s, q)); !slices.Equal(got, []string{"KEEP"}) {
			t.Errorf("after the purge SearchLog(%+v) = %v, want [KEEP]", q, got)
		}
	}
	st, err := s.LogStats(ctx(), T0.Add(-time.Hour), T0.Add(time.Hour), time.Hour, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.TopViruses) != 0 {
		t.Errorf("after the purge top viruses = %v, want none", st.TopViruses)
	}
	checkBuckets(t, s, []store.LogRecord{keep})
	if n, err := s.PurgeLog(ctx(), T0.Add(5*time.Minute)); err != nil || n != 0 {
		t.Errorf("PurgeLog again = %d, %v; want 0", n, err)
	}
}
