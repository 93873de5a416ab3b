package virus

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNotTried is wrapped, beside ErrUnavailable, by the error of a scan
// that Admit turned away. Such a failure says nothing new about the
// engine: it must not cut short the scan that is testing it.
var ErrNotTried = errors.New("not tried: the engine has just failed or another scan is testing it")

// ProbeGap is how long after a failure Admit turns every scan away.
const ProbeGap = time.Second

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
//
// Health is also the engine's circuit breaker (Admit): while the engine is
// down, one scan at a time tests it and the others fail at once, so that a
// hung engine costs a batch one timeout, not one per message.
type Health struct {
	mu       sync.Mutex
	st       Status
	probing  bool // a scan admitted while down is under way
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

// Admit asks whether a scan may go to the engine. While the engine is up or
// unknown every scan may. While it is down, one scan at a time is let
// through to test it (a connection refused is quick, but a hung engine
// holds each scan for the whole timeout), and none within ProbeGap of the
// last failure (the scans under way when the engine failed end together:
// the next messages of the batch need not wait for a second timeout).
// Turned-away scans get an error wrapping ErrUnavailable and ErrNotTried
// at once, without touching the engine, and their messages are held like
// those of any engine failure. The caller must call release when an
// admitted scan has ended, and report its outcome with Observe.
func (h *Health) Admit(now time.Time) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.State != StateDown {
		return func() {}, nil
	}
	if h.probing || now.Sub(h.st.LastFail) < ProbeGap {
		return nil, Errorf(h.st.Engine, "down since %s (%v): %w",
			h.st.Since.Format(time.RFC3339), h.st.LastError, ErrNotTried)
	}
	h.probing = true
	return func() {
		h.mu.Lock()
		h.probing = false
		h.mu.Unlock()
	}, nil
}

// Status returns a snapshot.
func (h *Health) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}
