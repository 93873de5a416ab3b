package spool

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrFull means the spool holds more than its configured bytes.
var ErrFull = errors.New("spool: over its size limit")

// ErrLowSpace means the spool's filesystem has less free space than
// configured.
var ErrLowSpace = errors.New("spool: free space under its limit")

// Pressure tells whether the spool can take more mail: its committed bytes
// under MaxBytes and its filesystem's free space over MinFree (0 turns a
// check off). The answer is measured at most once per Every (a listing of
// a large spool is not free), so it may lag by that much. Safe for
// concurrent use.
type Pressure struct {
	Spool    Spool
	MaxBytes int64
	MinFree  int64
	Every    time.Duration    // 0 means one second
	Clock    func() time.Time // time source

	mu   sync.Mutex
	last time.Time
	err  error
}

// Check returns nil while the spool can take mail, else an error that
// wraps ErrFull or ErrLowSpace (or the error that kept it from measuring:
// unknown is not "fine").
func (p *Pressure) Check() error {
	now := p.Clock()
	every := p.Every
	if every <= 0 {
		every = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() && now.Sub(p.last) < every && now.Sub(p.last) >= 0 {
		return p.err
	}
	p.last, p.err = now, p.measure()
	return p.err
}

func (p *Pressure) measure() error {
	if p.MaxBytes > 0 {
		_, used, err := p.Spool.Usage()
		if err != nil {
			return err
		}
		if used > p.MaxBytes {
			return fmt.Errorf("%w: %d bytes queued, limit %d", ErrFull, used, p.MaxBytes)
		}
	}
	if p.MinFree > 0 {
		free, err := p.Spool.FreeBytes()
		if err != nil {
			return err
		}
		if free < p.MinFree {
			return fmt.Errorf("%w: %d bytes free on %s, limit %d", ErrLowSpace, free, p.Spool.Dir, p.MinFree)
		}
	}
	return nil
}
