package virus

import "time"

// Default backoff bounds: MailScanner slept a fixed 10 s between attempts and
// then looped forever; we start at 30 s and double up to 10 minutes so that a
// dead engine is not hammered and a restarted one is noticed soon enough.
const (
	DefaultBackoffMin = 30 * time.Second
	DefaultBackoffMax = 10 * time.Minute
	DefaultJitter     = 0.2
)

// Backoff computes how long to wait before retrying after consecutive
// failures: Min doubling up to Max, shortened by up to Jitter (a fraction) at
// random so that many held messages do not retry in lock step. The zero
// value uses the defaults and no jitter.
type Backoff struct {
	Min    time.Duration // first delay; default DefaultBackoffMin
	Max    time.Duration // cap; default DefaultBackoffMax
	Jitter float64       // 0..1; 0 = none. Clamped to [0, 1].
	// Rand returns a number in [0, 1), e.g. math/rand/v2.Float64; injected so
	// tests are deterministic. Nil means no jitter.
	Rand func() float64
}

// Delay returns the wait before retry number attempt (1 = first retry after
// the first failure). attempt < 1 counts as 1.
func (b Backoff) Delay(attempt int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultBackoffMin
	}
	if hi <= 0 {
		hi = DefaultBackoffMax
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		if d > hi/2 {
			d = hi // also keeps d*2 from overflowing
			break
		}
		d *= 2
	}
	j := min(max(b.Jitter, 0), 1)
	if j > 0 && b.Rand != nil {
		r := min(max(b.Rand(), 0), 1)
		d -= time.Duration(float64(d) * j * r)
	}
	return d
}
