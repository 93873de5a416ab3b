package web

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// countingStore counts LogStats calls and can fail them.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls int
	fail  bool
}

func (c *countingStore) LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error) {
	c.mu.Lock()
	c.calls++
	fail := c.fail
	c.mu.Unlock()
	if fail {
		return store.Stats{}, errors.New("database is locked")
	}
	return c.Store.LogStats(ctx, since, until, bucket, top)
}

func (c *countingStore) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls }

// The dashboard asks the store for its two windows once a minute at most;
// a failed answer is not kept.
func TestDashboardStatsCached(t *testing.T) {
	var cs *countingStore
	f := newFixture(t, func(o *Options) { cs = &countingStore{Store: o.Store}; o.Store = cs })
	admin := f.login(t, "admin", "adminpw")
	load := func() int {
		t.Helper()
		code, _ := admin.get("/dashboard")
		return code
	}
	for range 3 {
		if code := load(); code != 200 {
			t.Fatalf("dashboard = %d", code)
		}
	}
	if got := cs.count(); got != 2 {
		t.Errorf("3 dashboards in a minute: %d LogStats calls, want 2 (the day and the month)", got)
	}
	f.clock.add(DefaultStatsCacheTTL - time.Second)
	load()
	if got := cs.count(); got != 2 {
		t.Errorf("59 s later: %d LogStats calls, want still 2", got)
	}
	f.clock.add(time.Second)
	load()
	if got := cs.count(); got != 4 {
		t.Errorf("a minute later: %d LogStats calls, want 4", got)
	}
	f.clock.add(DefaultStatsCacheTTL)
	cs.mu.Lock()
	cs.fail = true
	cs.mu.Unlock()
	if code := load(); code != 500 {
		t.Errorf("dashboard with a failing store = %d, want 500", code)
	}
	cs.mu.Lock()
	cs.fail = false
	cs.mu.Unlock()
	before := cs.count()
	if code := load(); code != 200 || cs.count() != before+2 {
		t.Errorf("after a failure: %d, %d new LogStats calls; want 200 and 2 (the failure is not kept)", code, cs.count()-before)
	}
}

// A negative StatsCacheTTL asks the store every time.
func TestDashboardStatsUncached(t *testing.T) {
	var cs *countingStore
	f := newFixture(t, func(o *Options) { cs = &countingStore{Store: o.Store}; o.Store = cs; o.StatsCacheTTL = -1 })
	admin := f.login(t, "admin", "adminpw")
	admin.get("/dashboard")
	admin.get("/dashboard")
	if got := cs.count(); got != 4 {
		t.Errorf("2 dashboards without a cache: %d LogStats calls, want 4", got)
	}
}
