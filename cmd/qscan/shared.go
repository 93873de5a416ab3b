package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/pgstore"
	"github.com/qscan/qscan/pkg/web"
)

// sharedStore is the store of [store] driver: the message log, the
// quarantine index's shared view, the desk's users, lists, audit log and
// digest links (the SQLite file itself, or PostgreSQL).
type sharedStore interface {
	web.Store
	AppendLog(ctx context.Context, recs []store.LogRecord) error
	PurgeLog(ctx context.Context, before time.Time) (int64, error)
	AddUser(ctx context.Context, u store.User) error
	DeleteUser(ctx context.Context, name string) error
	SetPassword(ctx context.Context, name, hash string) error
	Migrate(ctx context.Context) ([]int, error)
	Version(ctx context.Context) (int, error)
	Close() error
}

var (
	_ sharedStore = (*store.Store)(nil)
	_ sharedStore = (*pgstore.Store)(nil)
)

// shared reports whether the configuration shares its store (PostgreSQL).
func shared(c *config.Config) bool { return c.Store.Driver == "postgres" }

// openShared opens the PostgreSQL store of c (its schema is not changed:
// `qscan migrate` does that).
func openShared(c *config.Config) (*pgstore.Store, error) {
	return pgstore.Open(context.Background(), c.Store.DSN)
}

// openDesk opens the store the desk and the commands read: local itself
// for SQLite (closing it is the caller's), else PostgreSQL.
func openDesk(c *config.Config, local *store.Store) (sharedStore, error) {
	if !shared(c) {
		return local, nil
	}
	return openShared(c)
}

// quarIndex is the quarantine index a host writes: the local one, or the
// local one followed by the shared one through the outbox.
func quarIndex(c *config.Config, local *store.Store, wake func()) quarantine.Index {
	if !shared(c) {
		return local.QuarantineIndex()
	}
	return &store.SharedIndex{Local: local.QuarantineIndex(), Wake: wake}
}

// startShipper starts sending the outbox to PostgreSQL until ctx ends.
// onceFlush bounds the shipment at the end of `qscan run --once`.
const onceFlush = 30 * time.Second

func startShipper(ctx context.Context, c *config.Config, local *store.Store, log logrus.FieldLogger, run bool) (*pgstore.Shipper, *pgstore.Store, error) {
	pg, err := openShared(c)
	if err != nil {
		return nil, nil, err
	}
	sh := &pgstore.Shipper{Local: local, PG: pg, Host: logHost(c), Log: log}
	if run {
		go sh.Run(ctx)
	}
	log.Infof("message log: shared in PostgreSQL %s, sent from the outbox in %s", pgstore.Redact(c.Store.DSN), c.Store.Path)
	return sh, pg, nil
}

// flushOutbox sends what the outbox holds, for at most d (qscan run
// --once): what is left waits for the next run.
func flushOutbox(sh *pgstore.Shipper, local *store.Store, d time.Duration, log logrus.FieldLogger) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		n, err := sh.ShipOnce(ctx)
		if err != nil {
			lag, _ := local.OutboxLag(context.Background())
			log.WithError(err).Warnf("message log: %d rows wait in the outbox for PostgreSQL", lag.Rows)
			return
		}
		if n == 0 {
			return
		}
	}
}

// schemaProblem says whether the shared (or local) store's schema is
// behind this qscan's, for `qscan lint` and the daemon's start.
func schemaProblem(ctx context.Context, v int) error {
	switch {
	case v < store.SchemaVersion():
		return fmt.Errorf("schema version %d, this qscan needs %d: run `qscan migrate`", v, store.SchemaVersion())
	case v > store.SchemaVersion():
		return fmt.Errorf("schema version %d is newer than this qscan's (%d): upgrade qscan", v, store.SchemaVersion())
	}
	return nil
}

// errNoStore is a local database that does not exist yet.
var errNoStore = errors.New("no database yet")

// localVersion reads the schema version of the SQLite file at path
// without migrating it.
func localVersion(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, errNoStore
	}
	return store.PathVersion(ctx, path)
}
