package pgstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store/storetest"
)

var _ storetest.Store = (*Store)(nil)

// TestSuite runs the store suite against the PostgreSQL of QSCAN_PG_DSN
// (the test stack's postgresql plug-in sets it), each test in a schema
// of its own.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openTest(t) })
}

// openTest opens a migrated store in a new schema of QSCAN_PG_DSN's
// database, dropped when t ends; it skips t without QSCAN_PG_DSN.
func openTest(t testing.TB) *Store {
	t.Helper()
	dsn := os.Getenv("QSCAN_PG_DSN")
	if dsn == "" {
		t.Skip("QSCAN_PG_DSN is not set: start the test stack's postgresql (scripts/teststack start postgresql) and export its env")
	}
	ctx := context.Background()
	admin, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Pool().Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	qv := u.Query()
	qv.Set("search_path", schema+",public")
	u.RawQuery = qv.Encode()
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		admin.Pool().Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// TestRealPostgres is what `make e2e` runs (REAL_PKGS) against the test
// stack's PostgreSQL: the store suite and the shipper's tests.
func TestRealPostgres(t *testing.T) {
	if os.Getenv("QSCAN_PG_DSN") == "" {
		t.Skip("QSCAN_PG_DSN is not set: start the test stack's postgresql")
	}
	t.Run("Suite", TestSuite)
	t.Run("ShipExactlyOnce", TestShipExactlyOnce)
	t.Run("ShipServerDown", TestShipServerDown)
}
