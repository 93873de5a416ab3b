package main

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// The middle of a run. `qscan run --once` starts a process (configuration,
// store, recovery, the first listing of the queue, the first connections)
// and ends with the commit of its last batch: a few tenths of a second in
// which the engines wait whatever qscan does, and which a daemon pays once
// per start, not once per 2,000 messages. The busy share is therefore also
// measured over the middle of each run, qscan's and the engine-alone
// client's alike: from the moment a tenth of the messages are done to the
// moment nine tenths are.

// span is the engines' CPU time over a stretch of a run's wall time.
type span struct {
	wall time.Duration
	cpu  map[string]time.Duration
}

// plus adds two stretches (of two runs of the same client); nil when
// either is unknown.
func (s *span) plus(o *span) *span {
	if s == nil || o == nil {
		return nil
	}
	sum := &span{wall: s.wall + o.wall, cpu: map[string]time.Duration{}}
	for _, m := range []map[string]time.Duration{s.cpu, o.cpu} {
		for d, v := range m {
			sum.cpu[d] += v
		}
	}
	return sum
}

// midMeter takes the engines' CPU time at the two ends of a run's middle.
type midMeter struct {
	read   func() (map[string]time.Duration, bool) // the daemons' CPU so far
	lo, hi int                                     // messages done at the ends
	mu     sync.Mutex
	at     [2]time.Time
	cpu    [2]map[string]time.Duration
	bad    bool // a sample could not be read
}

// newMid meters the middle of a run of n messages with read; nil (no
// middle) for runs of fewer than 10 messages.
func newMid(n int, read func() (map[string]time.Duration, bool)) *midMeter {
	if n < 10 {
		return nil
	}
	return &midMeter{read: read, lo: n / 10, hi: n - n/10}
}

// done tells the meter that k messages are done; each k is told once
// (parallel's counter), in any order across goroutines.
func (m *midMeter) done(k int) {
	if m == nil {
		return
	}
	switch k {
	case m.lo:
		m.mark(0)
	case m.hi:
		m.mark(1)
	}
}

// mark samples end i (0: start of the middle, 1: its end) once.
func (m *midMeter) mark(i int) {
	cpu, ok := m.read()
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.at[i].IsZero() {
		return
	}
	m.at[i], m.cpu[i] = now, cpu
	m.bad = m.bad || !ok
}

// span returns the middle of the run; nil unless both ends were taken.
func (m *midMeter) span() *span {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bad || m.at[0].IsZero() || m.at[1].IsZero() || !m.at[1].After(m.at[0]) {
		return nil
	}
	s := &span{wall: m.at[1].Sub(m.at[0]), cpu: map[string]time.Duration{}}
	for d, v := range m.cpu[1] {
		s.cpu[d] = v - m.cpu[0][d]
	}
	return s
}

// watchQueue marks the ends of the middle of a drain as the outgoing
// queue out receives the lo-th and the hi-th of ids, the messages in the
// order qscan takes them (oldest first), until stop is closed. One stat
// every pollEvery costs qscan's CPU next to nothing; listing the queue
// would not.
func (m *midMeter) watchQueue(out string, ids []string, stop <-chan struct{}) {
	if m == nil || len(ids) < m.hi {
		return
	}
	for i, k := range []int{m.lo, m.hi} {
		qf := filepath.Join(out, sendmail.QfName(ids[k-1]))
		for {
			if _, err := os.Lstat(qf); err == nil {
				m.mark(i)
				break
			}
			select {
			case <-stop:
				return
			case <-time.After(pollEvery):
			}
		}
	}
}

// pollEvery is how often watchQueue looks.
const pollEvery = 2 * time.Millisecond
