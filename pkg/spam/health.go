package spam

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Defaults for HealthOptions fields left zero.
const (
	DefaultMaxTimeouts = 3
	DefaultPause       = 5 * time.Minute
)

// HealthOptions configures a Health.
type HealthOptions struct {
	Name        string        // engine name given to OnChange
	MaxTimeouts int           // consecutive timeouts that pause the engine; default 3
	Pause       time.Duration // how long it stays paused; default 5 min
	Now         func() time.Time
	// OnChange, when set, is called (outside the lock) when the engine is
	// paused (paused true, until the end of the pause) or taken back.
	OnChange func(name string, paused bool, until time.Time)
}

// Health tracks one engine: after MaxTimeouts consecutive timeouts it is
// paused for Pause, as MailScanner stops calling a SpamAssassin that keeps
// timing out; the first call after the pause tries it again. What a paused
// engine means for a message (retry later, or decide without it) is the
// caller's choice. It is safe for concurrent use.
type Health struct {
	opts        HealthOptions
	mu          sync.Mutex
	timeouts    int
	pausedUntil time.Time
}

// NewHealth returns a Health with defaults filled in.
func NewHealth(opts HealthOptions) *Health {
	if opts.MaxTimeouts <= 0 {
		opts.MaxTimeouts = DefaultMaxTimeouts
	}
	if opts.Pause <= 0 {
		opts.Pause = DefaultPause
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Health{opts: opts}
}

// Allow reports whether the engine may be called now.
func (h *Health) Allow() bool {
	now := h.opts.Now()
	h.mu.Lock()
	if h.pausedUntil.IsZero() {
		h.mu.Unlock()
		return true
	}
	if now.Before(h.pausedUntil) {
		h.mu.Unlock()
		return false
	}
	h.pausedUntil, h.timeouts = time.Time{}, 0
	h.mu.Unlock()
	h.notify(false, time.Time{})
	return true
}

// PausedUntil returns the end of the current pause, or the zero time.
func (h *Health) PausedUntil() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pausedUntil
}

// Record notes the outcome of one call: a timeout (see IsTimeout) counts
// towards a pause; an answer, even an error answer, resets the count.
func (h *Health) Record(err error) {
	h.mu.Lock()
	if !IsTimeout(err) {
		h.timeouts = 0
		h.mu.Unlock()
		return
	}
	h.timeouts++
	if h.timeouts < h.opts.MaxTimeouts || !h.pausedUntil.IsZero() {
		h.mu.Unlock()
		return
	}
	until := h.opts.Now().Add(h.opts.Pause)
	h.pausedUntil = until
	h.mu.Unlock()
	h.notify(true, until)
}

func (h *Health) notify(paused bool, until time.Time) {
	if h.opts.OnChange != nil {
		h.opts.OnChange(h.opts.Name, paused, until)
	}
}

// IsTimeout reports whether err is a timeout: a context deadline, a
// connection deadline or a net.Error that says so.
func IsTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
