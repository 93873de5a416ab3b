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

// statsStore is the desk's Store with LogStats answers kept for a while,
// one per window (its length, bucket and top): a window ending less than
// ttl after the kept one's end is answered from it. A call that finds its
// window being computed waits for it instead of asking the store too.
// Errors are not kept.
type statsStore struct {
	Store
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
	until time.Time  // the end of the window kept; zero: none
	stats store.Stats
}

// LogStats answers from the kept window when it is recent enough.
func (c *statsStore) LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error) {
	k := statsKey{until.Sub(since), bucket, top}
	c.mu.Lock()
	e := c.entries[k]
	if e == nil {
		e = &statsEntry{}
		c.entries[k] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.until.IsZero() && !until.Before(e.until) && until.Sub(e.until) < c.ttl {
		return e.stats, nil
	}
	s, err := c.Store.LogStats(ctx, since, until, bucket, top)
	if err != nil {
		return store.Stats{}, err
	}
	e.until, e.stats = until, s
	return s, nil
}
