package pipeline

import (
	"sync"
	"time"
)

// holds remembers messages held back (an engine was down, a commit
// failed) and when each may be tried again, doubling the delay on each
// failure up to max.
type holds struct {
	mu       sync.Mutex
	min, max time.Duration
	m        map[string]hold
	epoch    uint64 // counts releaseChecks
}

type hold struct {
	until time.Time
	delay time.Duration
	check bool // held because a check could not be done (an engine)
}

func newHolds(min, max time.Duration) *holds {
	if min <= 0 {
		min = 30 * time.Second
	}
	if max < min {
		max = min
	}
	return &holds{min: min, max: max, m: map[string]hold{}}
}

// hold delays id; it returns the delay chosen.
func (h *holds) hold(id string, now time.Time) time.Duration {
	return h.holdFor(id, now, false)
}

// holdFor delays id, noting whether a failed check (an engine down) is the
// reason; it returns the delay chosen.
func (h *holds) holdFor(id string, now time.Time, check bool) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.min
	if old, ok := h.m[id]; ok {
		d = min(2*old.delay, h.max)
	}
	h.m[id] = hold{until: now.Add(d), delay: d, check: check}
	return d
}

// releaseChecks lets the messages held for a failed check be tried at
// once, their backoff forgotten, and returns how many there were.
func (h *holds) releaseChecks() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.epoch++
	n := 0
	for id, x := range h.m {
		if x.check {
			delete(h.m, id)
			n++
		}
	}
	return n
}

// epochNow counts the releaseChecks calls so far.
func (h *holds) epochNow() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.epoch
}

// waiting reports whether id must not be tried yet.
func (h *holds) waiting(id string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.m[id]
	return ok && now.Before(x.until)
}

func (h *holds) release(id string) {
	h.mu.Lock()
	delete(h.m, id)
	h.mu.Unlock()
}

func (h *holds) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}

// next is the earliest time a held message may be retried.
func (h *holds) next() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return earliest(h.m, func(x hold) time.Time { return x.until })
}

// earliest is the earliest of the times at gives for m's values.
func earliest[T any](m map[string]T, at func(T) time.Time) (time.Time, bool) {
	var t time.Time
	for _, x := range m {
		if u := at(x); t.IsZero() || u.Before(t) {
			t = u
		}
	}
	return t, !t.IsZero()
}
