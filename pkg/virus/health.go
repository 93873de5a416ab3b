package virus

import (
	"context"
	"errors"
	"sync"
	"time"
)

// State is what Health last knew of an engine.
type State int

const (
	StateUnknown State = iota // no scan observed yet
	StateUp                   // the last scan gave a verdict
	StateDown                 // the last scan failed
)

func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	}
	return "unknown"
}

// Status is a snapshot of an engine's health.
type Status struct {
	Engine    string
	State     State
	Since     time.Time // when State began
	LastError error     // the last failure (kept after recovery, for `qscan check`)
	LastFail  time.Time // when LastError happened
	Failures  int       // consecutive failures; 0 when up
}

// Health tracks whether one engine is up from the outcomes of its scans, and
// calls OnChange once per state change (so the caller logs "clamd down: ..."
// once, not once per message). It is safe for concurrent use. Times come from
// the caller: Health reads no clock.
type Health struct {
	mu       sync.Mutex
	st       Status
	onChange func(Status)
}

// NewHealth returns the health of engine, in state unknown. onChange, if not
// nil, is called with the new status after each state change; it runs while
// no lock is held and must not block for long.
func NewHealth(engine string, onChange func(Status)) *Health {
	return &Health{st: Status{Engine: engine}, onChange: onChange}
}

// Observe records the outcome of one scan that ended at now: err == nil means
// the engine gave a verdict (clean, infected or limit exceeded all count as
// up). A context.Canceled error is ignored: the caller gave up, which says
// nothing about the engine. A deadline exceeded counts as a failure: the
// engine was too slow.
func (h *Health) Observe(now time.Time, err error) {
	if err != nil && errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return
	}
	h.mu.Lock()
	prev := h.st.State
	if err == nil {
		h.st.Failures = 0
		if prev != StateUp {
			h.st.State, h.st.Since = StateUp, now
		}
	} else {
		h.st.Failures++
		h.st.LastError, h.st.LastFail = err, now
		if prev != StateDown {
			h.st.State, h.st.Since = StateDown, now
		}
	}
	changed := h.st.State != prev
	st := h.st
	h.mu.Unlock()
	if changed && h.onChange != nil {
		h.onChange(st)
	}
}

// Status returns a snapshot.
func (h *Health) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}
