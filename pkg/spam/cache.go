package spam

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sync"
	"time"
)

// Key identifies a cached engine result: SHA-256 of the bytes the engine
// saw, together with the required score they were judged against.
type Key [sha256.Size]byte

// KeyOf returns the cache key of body judged against required.
func KeyOf(body []byte, required float64) Key {
	h := sha256.New()
	h.Write(body)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(required))
	h.Write(b[:])
	var k Key
	h.Sum(k[:0])
	return k
}

// Defaults for CacheOptions fields left zero.
const (
	DefaultCacheTTL        = 5 * time.Minute
	DefaultCacheMaxEntries = 10000
)

// CacheOptions configures a Cache.
type CacheOptions struct {
	TTL        time.Duration    // how long an entry is good for; default 5 min
	MaxEntries int              // entries kept, least recently used go first; default 10000
	Now        func() time.Time // clock; default time.Now
}

// Cache keeps recent engine results so that a mail sent to many people in
// several copies is checked once. It is safe for concurrent use.
type Cache[V any] struct {
	opts  CacheOptions
	mu    sync.Mutex
	ll    *list.List // front = most recently used
	items map[Key]*list.Element
}

type cacheEntry[V any] struct {
	key     Key
	value   V
	expires time.Time
}

// NewCache returns an empty cache with defaults filled in.
func NewCache[V any](opts CacheOptions) *Cache[V] {
	if opts.TTL <= 0 {
		opts.TTL = DefaultCacheTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultCacheMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache[V]{opts: opts, ll: list.New(), items: make(map[Key]*list.Element)}
}

// Get returns the value stored under k if it has not expired.
func (c *Cache[V]) Get(k Key) (V, bool) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*cacheEntry[V])
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, k)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.value, true
}

// Put stores v under k for the cache's TTL, evicting the least recently
// used entry when the cache is full.
func (c *Cache[V]) Put(k Key, v V) {
	expires := c.opts.Now().Add(c.opts.TTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		e := el.Value.(*cacheEntry[V])
		e.value, e.expires = v, expires
		c.ll.MoveToFront(el)
		return
	}
	for c.ll.Len() >= c.opts.MaxEntries {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry[V]).key)
	}
	c.items[k] = c.ll.PushFront(&cacheEntry[V]{key: k, value: v, expires: expires})
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
