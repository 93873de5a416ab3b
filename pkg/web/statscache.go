package web

import (
	"context"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// DefaultStatsCacheTTL is how long the dashboard reuses the store's
// statistics: the 30-day figures take the SQLite store 0.3 to 1.5 s on a
// large log, which a postmaster reloading the page should not pay each
// time.
const DefaultStatsCacheTTL = time.Minute

// statsCache keeps the dashboard's LogStats answers for a while, one per
// window (span and bucket). A request that finds its entry being computed
// waits for it instead of asking the store too. Errors are not kept.
type statsCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[statsKey]*statsEntry
}

type statsKey struct {
	span, bucket time.Duration
	top          int
}

type statsEntry struct {
	mu    sync.Mutex // held while the store computes this entry
	at    time.Time  // when it was computed; zero: never
	stats store.Stats
}

func newStatsCache(ttl time.Duration) *statsCache {
	return &statsCache{ttl: ttl, entries: map[statsKey]*statsEntry{}}
}

// get returns the statistics of the span before now, from the cache when
// they were computed less than the cache's lifetime ago (by the clock now
// reads), else from st.
func (c *statsCache) get(ctx context.Context, st Store, now time.Time, span, bucket time.Duration, top int) (store.Stats, error) {
	if c.ttl <= 0 {
		return st.LogStats(ctx, now.Add(-span), now, bucket, top)
	}
	k := statsKey{span, bucket, top}
	c.mu.Lock()
	e := c.entries[k]
	if e == nil {
		e = &statsEntry{}
		c.entries[k] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.at.IsZero() && !now.Before(e.at) && now.Sub(e.at) < c.ttl {
		return e.stats, nil
	}
	s, err := st.LogStats(ctx, now.Add(-span), now, bucket, top)
	if err != nil {
		return store.Stats{}, err
	}
	e.at, e.stats = now, s
	return s, nil
}
