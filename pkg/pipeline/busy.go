package pipeline

import (
	"sync"
	"time"
)

// busy remembers incoming entries that could not be claimed yet because
// their writer still has them: sendmail keeps its lock on a qf for a
// moment after the rename that announced it, and an entry may still lack
// its df or its content. No file system event marks the end of that
// moment (releasing a lock is not one), so each such entry is tried again
// on a timer of its own: within milliseconds at first, then less and less
// often, never waiting for the periodic rescan and never spinning.
type busy struct {
	mu sync.Mutex
	m  map[string]busyEntry
}

type busyEntry struct {
	first, until time.Time
	delay        time.Duration
}

const (
	busyMin = 5 * time.Millisecond // the first retry
	// busyFast caps the delay while the entry has been busy for less than
	// busyFastFor: sendmail's lock usually lasts a few milliseconds, at
	// most the end of its SMTP session.
	busyFast    = 50 * time.Millisecond
	busyFastFor = 2 * time.Second
	busyMax     = 2 * time.Second // an entry busy for long: one try per busyMax
)

func newBusy() *busy { return &busy{m: map[string]busyEntry{}} }

// note records that id could not be claimed at now and returns when it is
// to be tried again.
func (b *busy) note(id string, now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[id]
	if !ok {
		e = busyEntry{first: now, delay: busyMin}
	} else {
		limit := busyMax
		if now.Sub(e.first) < busyFastFor {
			limit = busyFast
		}
		e.delay = min(2*e.delay, limit)
	}
	e.until = now.Add(e.delay)
	b.m[id] = e
	return e.until
}

// clear forgets id: claimed, set aside or gone.
func (b *busy) clear(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// keep forgets every entry that is not in listed (committed or removed
// since it was noted).
func (b *busy) keep(listed map[string]bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id := range b.m {
		if !listed[id] {
			delete(b.m, id)
		}
	}
}

// next is the earliest time a busy entry is to be tried again.
func (b *busy) next() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return earliest(b.m, func(e busyEntry) time.Time { return e.until })
}

func (b *busy) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
