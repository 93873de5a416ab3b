package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/pgstore"
)

const migrateUsage = `usage: qscan migrate [-c FILE]

Brings the store's schema up to this qscan's version: the SQLite file of
[store] path and, with [store] driver = "postgres", the PostgreSQL
database of [store] dsn (one host of the group runs it; a second run
changes nothing). Each version is applied in one transaction.

exit codes: 0 done (also when nothing was to do); 64 usage; 78
configuration error; 1 other error.
`

func cmdMigrate(args []string) int {
	fs := newFlagSet("migrate")
	cfgPath := fs.String("c", "", "configuration file")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	if _, err := health.BecomeOwner(c.Queue.WorkDir); err != nil {
		fmt.Fprintln(os.Stderr, "qscan migrate:", err)
		return exitFail
	}
	ctx := context.Background()
	before, _ := localVersion(ctx, c.Store.Path)
	st, err := store.Open(c.Store.Path) // migrates
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan migrate:", err)
		return exitFail
	}
	v, err := st.Version(ctx)
	st.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan migrate:", err)
		return exitFail
	}
	fmt.Printf("%s: schema version %d%s\n", c.Store.Path, v, fromVersion(before, v))
	if !shared(c) {
		return exitOK
	}
	return migrateShared(ctx, c)
}

func migrateShared(ctx context.Context, c *config.Config) int {
	pg, err := openShared(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan migrate:", err)
		return exitFail
	}
	defer pg.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	before, err := pg.Version(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "qscan migrate: %s: %v\n", pgstore.Redact(c.Store.DSN), err)
		return exitFail
	}
	if _, err := pg.Migrate(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "qscan migrate: %s: %v\n", pgstore.Redact(c.Store.DSN), err)
		return exitFail
	}
	v, err := pg.Version(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "qscan migrate: %s: %v\n", pgstore.Redact(c.Store.DSN), err)
		return exitFail
	}
	fmt.Printf("%s: schema version %d%s\n", pgstore.Redact(c.Store.DSN), v, fromVersion(before, v))
	return exitOK
}

func fromVersion(before, after int) string {
	if before == after {
		return " (up to date)"
	}
	return fmt.Sprintf(" (was %d)", before)
}

// lintStore checks the store's schema against this qscan's: a schema
// behind is an error naming `qscan migrate`; a PostgreSQL that does not
// answer is a warning (the mail does not wait for it).
func lintStore(c *config.Config) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := true
	if v, err := localVersion(ctx, c.Store.Path); err == nil {
		if err := schemaProblem(ctx, v); err != nil {
			fmt.Fprintf(os.Stderr, "%s: store.path: %s: %v\n", c.File, c.Store.Path, err)
			ok = false
		}
	} else if !errors.Is(err, errNoStore) {
		fmt.Fprintf(os.Stderr, "%s: store.path: %s: %v\n", c.File, c.Store.Path, err)
		ok = false
	}
	if !shared(c) {
		return ok
	}
	pg, err := openShared(c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: store.dsn: %v\n", c.File, err)
		return false
	}
	defer pg.Close()
	v, err := pg.Version(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: warning: store.dsn: %s: %v (the log waits in the outbox until it answers)\n", c.File, pgstore.Redact(c.Store.DSN), err)
		return ok
	}
	if err := schemaProblem(ctx, v); err != nil {
		fmt.Fprintf(os.Stderr, "%s: store.dsn: %s: %v\n", c.File, pgstore.Redact(c.Store.DSN), err)
		return false
	}
	return ok
}
