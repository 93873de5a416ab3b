package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/store"
)

// Shipper sends a host's outbox (pkg/store's outbox.go) to the shared
// store, in order and exactly once: a log row carries the key (host and
// outbox epoch, outbox seq) under a unique index, and the quarantine
// changes are idempotent; a batch of rows goes in one transaction, and
// leaves the outbox only after that transaction committed. While
// PostgreSQL is down or slow it retries with backoff; the mail never
// waits for it.
type Shipper struct {
	Local *store.Store
	PG    *Store
	Host  string
	Log   logrus.FieldLogger

	Batch      int           // rows per transaction; default 500
	Poll       time.Duration // look at the outbox at least this often; default 2s
	MinBackoff time.Duration // first wait after a failure; default 1s
	MaxBackoff time.Duration // longest wait; default 30s
	Timeout    time.Duration // one transaction's bound; default 30s

	// Shipped, when set, is told the rows and transactions of each
	// shipment (the benchmarks count database writes with it).
	Shipped func(rows int, logRows int64)

	once   sync.Once
	wake   chan struct{}
	src    string
	schema bool
}

// Defaults of Shipper.
const (
	DefaultShipBatch  = 500
	DefaultShipPoll   = 2 * time.Second
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 30 * time.Second
	DefaultShipTimout = 30 * time.Second
)

func (sh *Shipper) init() {
	sh.once.Do(func() {
		sh.wake = make(chan struct{}, 1)
		if sh.Batch <= 0 {
			sh.Batch = DefaultShipBatch
		}
		if sh.Poll <= 0 {
			sh.Poll = DefaultShipPoll
		}
		if sh.MinBackoff <= 0 {
			sh.MinBackoff = DefaultMinBackoff
		}
		if sh.MaxBackoff <= 0 {
			sh.MaxBackoff = DefaultMaxBackoff
		}
		if sh.Timeout <= 0 {
			sh.Timeout = DefaultShipTimout
		}
		if sh.Log == nil {
			l := logrus.New()
			l.SetOutput(io.Discard)
			sh.Log = logrus.NewEntry(l)
		}
	})
}

// Wake asks for a shipment now (the outbox has new rows).
func (sh *Shipper) Wake() {
	sh.init()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// Run ships until ctx ends.
func (sh *Shipper) Run(ctx context.Context) {
	sh.init()
	backoff, failing := sh.MinBackoff, false
	for {
		n, err := sh.ShipOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := sh.Poll
		switch {
		case err != nil:
			if !failing {
				sh.Log.WithError(err).Warn("message log: cannot send the outbox to PostgreSQL; retrying (the mail is not affected)")
			}
			failing, wait = true, backoff
			backoff = min(2*backoff, sh.MaxBackoff)
		case n > 0:
			if failing {
				sh.Log.Info("message log: sending the outbox to PostgreSQL again")
			}
			failing, backoff = false, sh.MinBackoff
			continue // more may wait
		default:
			failing, backoff = false, sh.MinBackoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-sh.wake:
			if err != nil {
				// A failing server: the backoff holds, a wake-up does not
				// cut it short.
				<-t.C
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// ShipOnce sends the oldest rows of the outbox (up to Batch) in one
// transaction and removes them from the outbox; it returns how many it
// sent.
func (sh *Shipper) ShipOnce(ctx context.Context) (int, error) {
	sh.init()
	if sh.src == "" {
		epoch, err := sh.Local.OutboxEpoch(ctx)
		if err != nil {
			return 0, err
		}
		sh.src = sh.Host + "/" + epoch
	}
	rows, err := sh.Local.OutboxNext(ctx, sh.Batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, sh.Timeout)
	defer cancel()
	if !sh.schema {
		v, err := sh.PG.Version(tctx)
		if err != nil {
			return 0, err
		}
		if v < store.SchemaVersion() {
			return 0, fmt.Errorf("the PostgreSQL schema is version %d, this qscan needs %d: run `qscan migrate`", v, store.SchemaVersion())
		}
		sh.schema = true
	}
	logRows, err := sh.send(tctx, rows)
	if err != nil {
		return 0, err
	}
	// Sent: a crash before this line sends the rows again, and the keys
	// make that harmless.
	if err := sh.Local.OutboxDone(ctx, rows[len(rows)-1].Seq); err != nil {
		return 0, err
	}
	if sh.Shipped != nil {
		sh.Shipped(len(rows), logRows)
	}
	return len(rows), nil
}

// send writes rows in one transaction, in order: runs of log rows as one
// batch of inserts, quarantine changes between them.
func (sh *Shipper) send(ctx context.Context, rows []store.OutboxRow) (int64, error) {
	tx, err := sh.PG.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var logs []Keyed
	var inserted int64
	flush := func() error {
		if len(logs) == 0 {
			return nil
		}
		n, err := insertKeyed(ctx, tx, sh.src, logs)
		inserted += n
		logs = logs[:0]
		return err
	}
	for _, r := range rows {
		if r.Kind == store.OutboxLog {
			var rec store.LogRecord
			if err := json.Unmarshal(r.Body, &rec); err != nil {
				return 0, fmt.Errorf("outbox row %d: %w", r.Seq, err)
			}
			logs = append(logs, Keyed{Seq: r.Seq, Rec: rec})
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
		var b pgx.Batch
		if err := queueQuarantine(&b, sh.Host, r); err != nil {
			return 0, fmt.Errorf("outbox row %d: %w", r.Seq, err)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return 0, fmt.Errorf("outbox row %d: %w", r.Seq, err)
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hosts(host, seen) VALUES($1, $2) ON CONFLICT(host) DO UPDATE SET seen = excluded.seen`,
		sh.Host, time.Now().Unix()); err != nil {
		return 0, err
	}
	return inserted, tx.Commit(ctx)
}
