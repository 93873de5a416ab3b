package store_test

import (
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/storetest"
)

var _ storetest.Store = (*store.Store)(nil)

// TestSuite runs the store suite against SQLite.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "q.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
