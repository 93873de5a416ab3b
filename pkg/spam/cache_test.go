package spam

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)} }

func TestKeyOf(t *testing.T) {
	a := KeyOf([]byte("body"), 5)
	if a != KeyOf([]byte("body"), 5) {
		t.Error("KeyOf is not deterministic")
	}
	if a == KeyOf([]byte("body"), 6) || a == KeyOf([]byte("body!"), 5) {
		t.Error("KeyOf ignores the required score or the body")
	}
}

func TestCacheTTL(t *testing.T) {
	clk := newClock()
	c := NewCache[float64](CacheOptions{TTL: time.Minute, Now: clk.Now})
	k := KeyOf([]byte("m"), 5)
	if _, ok := c.Get(k); ok {
		t.Fatal("Get on an empty cache hit")
	}
	c.Put(k, 7.3)
	clk.Add(59 * time.Second)
	if v, ok := c.Get(k); !ok || v != 7.3 {
		t.Errorf("Get before the TTL = %v, %v; want 7.3, true", v, ok)
	}
	clk.Add(time.Second)
	if _, ok := c.Get(k); ok {
		t.Error("Get at the TTL hit, want expired")
	}
	if c.Len() != 0 {
		t.Errorf("Len after expiry = %d, want 0", c.Len())
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache[int](CacheOptions{MaxEntries: 2, Now: newClock().Now})
	k1, k2, k3 := KeyOf([]byte("1"), 5), KeyOf([]byte("2"), 5), KeyOf([]byte("3"), 5)
	c.Put(k1, 1)
	c.Put(k2, 2)
	c.Get(k1) // k2 is now the least recently used
	c.Put(k3, 3)
	if _, ok := c.Get(k2); ok {
		t.Error("k2 survived, want it evicted")
	}
	for k, want := range map[Key]int{k1: 1, k3: 3} {
		if v, ok := c.Get(k); !ok || v != want {
			t.Errorf("Get = %v, %v; want %d", v, ok, want)
		}
	}
	c.Put(k1, 10)
	if v, _ := c.Get(k1); v != 10 || c.Len() != 2 {
		t.Errorf("after overwrite Get = %d, Len = %d; want 10, 2", v, c.Len())
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache[int](CacheOptions{MaxEntries: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := KeyOf(fmt.Appendf(nil, "%d", i%80), 5)
				if v, ok := c.Get(k); ok && v != i%80 {
					t.Errorf("goroutine %d: Get = %d, want %d", g, v, i%80)
				}
				c.Put(k, i%80)
			}
		})
	}
	wg.Wait()
	if c.Len() > 50 {
		t.Errorf("Len = %d, over MaxEntries 50", c.Len())
	}
}

func BenchmarkCache(b *testing.B) {
	c := NewCache[int](CacheOptions{})
	keys := make([]Key, 1000)
	for i := range keys {
		keys[i] = KeyOf(fmt.Appendf(nil, "%d", i), 5)
	}
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		if _, ok := c.Get(k); !ok {
			c.Put(k, i)
		}
		i++
	}
}
