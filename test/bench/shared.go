package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/pgstore"
	"github.com/qscan/qscan/test/stackutil"
)

// sharedResult is the shared-store run: the local outbox writes of the
// pipeline's batches, then the shipment of those rows to PostgreSQL, with
// PostgreSQL's own counts of commits and inserted tuples.
type sharedResult struct {
	n, batch, shipBatch   int
	localTx               int           // local transactions (one per batch)
	local                 time.Duration // writing the outbox
	ship                  time.Duration // shipping it all
	shipments             int
	pgCommits, pgInserted int64 // from pg_stat_database
}

// sharedDSN is the stack's PostgreSQL, "" when it is not running.
func sharedDSN() string {
	if d := os.Getenv("QSCAN_PG_DSN"); d != "" {
		return d
	}
	if stackutil.Status("postgresql") != nil {
		return ""
	}
	env, err := stackutil.Env()
	if err != nil {
		return ""
	}
	return env.PGDSN
}

// runShared writes n log records through the outbox in batches of batch
// (as the pipeline does) and ships them to PostgreSQL, in a schema of its
// own that it drops.
func runShared(root, dsn string, n, batch int) (sharedResult, error) {
	res := sharedResult{n: n, batch: batch, shipBatch: pgstore.DefaultShipBatch}
	ctx := context.Background()
	admin, err := pgstore.Open(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer admin.Close()
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := admin.Pool().Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return res, err
	}
	defer admin.Pool().Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(dsn)
	if err != nil {
		return res, err
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	pg, err := pgstore.Open(ctx, u.String())
	if err != nil {
		return res, err
	}
	defer pg.Close()
	if _, err := pg.Migrate(ctx); err != nil {
		return res, err
	}
	os.MkdirAll(root, 0o700)
	local, err := store.Open(filepath.Join(root, "local.db"))
	if err != nil {
		return res, err
	}
	defer local.Close()
	sink := &store.LogOutbox{S: local}
	t0 := time.Now()
	for i := 0; i < n; i += batch {
		var recs []store.LogRecord
		for j := i; j < min(n, i+batch); j++ {
			recs = append(recs, benchRecord(j, t0))
		}
		if err := sink.AppendLog(ctx, recs); err != nil {
			return res, err
		}
		res.localTx++
	}
	res.local = time.Since(t0)
	c0, i0, err := pgCounts(ctx, admin)
	if err != nil {
		return res, err
	}
	sh := &pgstore.Shipper{Local: local, PG: pg, Host: "bench"}
	t1 := time.Now()
	for {
		k, err := sh.ShipOnce(ctx)
		if err != nil {
			return res, err
		}
		if k == 0 {
			break
		}
		res.shipments++
	}
	res.ship = time.Since(t1)
	// A backend reports its statistics at exit or within a second or so.
	pg.Close()
	time.Sleep(1500 * time.Millisecond)
	c1, i1, err := pgCounts(ctx, admin)
	if err != nil {
		return res, err
	}
	res.pgCommits, res.pgInserted = c1-c0, i1-i0
	return res, nil
}

func pgCounts(ctx context.Context, pg *pgstore.Store) (commits, inserted int64, err error) {
	pg.Pool().Exec(ctx, "SELECT pg_stat_clear_snapshot()")
	err = pg.Pool().QueryRow(ctx, `SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&commits, &inserted)
	return
}

// benchRecord is a typical log row: two recipients, a subject, stage
// times, a report every tenth message.
func benchRecord(i int, t time.Time) store.LogRecord {
	r := store.LogRecord{Time: t.Add(time.Duration(i) * time.Millisecond), Host: "bench", QueueID: fmt.Sprintf("B%09d", i),
		Sender: fmt.Sprintf("sender%d@example.org", i%500), Recipients: []string{fmt.Sprintf("user%d@example.test", i%2000), "list@example.test"},
		Subject: fmt.Sprintf("Invoice %d for your order of last week", i), Size: 8000 + int64(i%5000), Verdict: "clean",
		SpamScore: 1.5, StageMS: map[string]int64{"explode": 1, "virus": 4, "spam": 30, "commit": 2}}
	if i%10 == 0 {
		r.Verdict, r.Viruses = "infected", []string{"Eicar-Test-Signature"}
		r.Reports = []store.LogReport{{Kind: "virus", Part: "eicar.com", Text: "Eicar-Test-Signature", Removed: true}}
	}
	return r
}

// reportShared writes the shared-store table.
func reportShared(w io.Writer, r sharedResult) {
	rate := float64(r.n) / r.ship.Seconds()
	fmt.Fprintf(w, "\n### Shared store (PostgreSQL)\n\n")
	fmt.Fprintf(w, "%d message-log rows, written as the pipeline does (batches of %d into the local outbox), then shipped to the test stack's PostgreSQL 15 (fsync on) in transactions of up to %d rows.\n\n", r.n, r.batch, r.shipBatch)
	fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| local writes (SQLite outbox) | 1 row per message, 1 transaction per batch (%d transactions, %.0f rows/s) |\n", r.localTx, float64(r.n)/r.local.Seconds())
	fmt.Fprintf(w, "| PostgreSQL transactions | %d for %d shipments (%.4f per message) |\n", r.pgCommits, r.shipments, float64(r.pgCommits)/float64(r.n))
	fmt.Fprintf(w, "| PostgreSQL rows inserted | %d (%.2f per message: the log row) |\n", r.pgInserted, float64(r.pgInserted)/float64(r.n))
	fmt.Fprintf(w, "| message-log insert rate sustained | %.0f rows/s (%.2f s for %d rows) |\n", rate, r.ship.Seconds(), r.n)
	// A host at 20 msg/s (1.7 million a day) is a busy MX; a third of the
	// measured rate is kept for searches, the dashboard and the purge.
	fmt.Fprintf(w, "| hosts at 20 msg/s one PostgreSQL serves (a third of the rate) | %.0f |\n", rate/3/20)
}
