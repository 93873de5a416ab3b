package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

func localStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func logCount(t *testing.T, pg *Store, host string) map[string]int {
	t.Helper()
	rows, err := pg.pool.Query(context.Background(), `SELECT queue_id, count(*) FROM log WHERE host = $1 GROUP BY 1`, host)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// TestShipExactlyOnce: rows sent twice (a crash between the commit in
// PostgreSQL and the removal from the outbox) are stored once, in order
// with the quarantine changes.
func TestShipExactlyOnce(t *testing.T) {
	pg := openTest(t)
	local := localStore(t)
	ctx := context.Background()
	sink := &store.LogOutbox{S: local}
	var recs []store.LogRecord
	for i := range 7 {
		recs = append(recs, store.LogRecord{Time: time.Unix(1900000000+int64(i), 0), Host: "mx1", QueueID: fmt.Sprintf("Q%d", i),
			Sender: "a@example.org", Recipients: []string{"b@example.org"}, Verdict: "clean"})
	}
	if err := sink.AppendLog(ctx, recs[:4]); err != nil {
		t.Fatal(err)
	}
	idx := &store.SharedIndex{Local: local.QuarantineIndex()}
	e := quarantine.Entry{ID: "20300101/Q1", QueueID: "Q1", Time: time.Unix(1900000000, 0), Sender: "a@example.org",
		Recipients: []string{"b@example.org"}, Reason: "virus", Whole: true}
	if err := idx.Add(e); err != nil {
		t.Fatal(err)
	}
	e2 := e
	e2.ID, e2.QueueID = "20300101/Q2", "Q2"
	if err := idx.Add(e2); err != nil {
		t.Fatal(err)
	}
	if err := idx.Remove(e2.ID); err != nil {
		t.Fatal(err)
	}
	if err := sink.AppendLog(ctx, recs[4:]); err != nil {
		t.Fatal(err)
	}
	sh := &Shipper{Local: local, PG: pg, Host: "mx1", Batch: 3}
	// The crash: the first rows reach PostgreSQL but stay in the outbox.
	rows, _ := local.OutboxNext(ctx, 5)
	sh.init()
	epoch, _ := local.OutboxEpoch(ctx)
	sh.src = "mx1/" + epoch
	if _, err := sh.send(ctx, rows); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := sh.ShipOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	got := logCount(t, pg, "mx1")
	if len(got) != 7 {
		t.Errorf("log rows by queue id = %v, want 7 ids", got)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s stored %d times, want once", id, n)
		}
	}
	es, err := pg.QuarantineEntries(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != e.ID || es[0].Host != "mx1" {
		t.Errorf("shared quarantine index = %+v, want only %s of mx1", es, e.ID)
	}
	if lag, _ := local.OutboxLag(ctx); lag.Rows != 0 {
		t.Errorf("outbox after shipping: %d rows, want 0", lag.Rows)
	}
	hosts, err := pg.Hosts(ctx)
	if err != nil || hosts["mx1"].IsZero() {
		t.Errorf("hosts = %v, %v; want mx1", hosts, err)
	}
}

// TestShipServerDown: with PostgreSQL unreachable the rows stay in the
// outbox and the lag says so.
func TestShipServerDown(t *testing.T) {
	local := localStore(t)
	ctx := context.Background()
	pg, err := Open(ctx, "postgres://qscan:secret@127.0.0.1:1/qscan?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	b, _ := json.Marshal(store.LogRecord{Host: "mx1", QueueID: "Q"})
	if err := local.Enqueue(ctx, []store.OutboxItem{{Kind: store.OutboxLog, Body: b}}); err != nil {
		t.Fatal(err)
	}
	sh := &Shipper{Local: local, PG: pg, Host: "mx1"}
	if n, err := sh.ShipOnce(ctx); err == nil || n != 0 {
		t.Fatalf("ShipOnce with the server down = %d, %v; want an error", n, err)
	}
	lag, err := local.OutboxLag(ctx)
	if err != nil || lag.Rows != 1 || lag.Oldest.IsZero() {
		t.Errorf("OutboxLag = %+v, %v; want 1 row waiting", lag, err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://qscan:s3cret@db:5432/qscan?sslmode=disable": "postgres://qscan:xxxxx@db:5432/qscan?sslmode=disable",
		"postgres://db/qscan?password=s3cret":                   "postgres://db/qscan?password=xxxxx",
		"host=db user=qscan password=s3cret dbname=qscan":       "host=db user=qscan password=xxxxx dbname=qscan",
		"postgres://db/qscan":                                   "postgres://db/qscan",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := Open(context.Background(), "postgres://u:s3cret@db:notaport/x"); err == nil || contains(err.Error(), "s3cret") {
		t.Errorf("Open(bad dsn) error = %v, want one without the password", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
