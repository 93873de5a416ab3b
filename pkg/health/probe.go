package health

import (
	"context"
	"sync"
	"time"
)

// DefaultProbeTimeout bounds a Probe that has no timeout of its own.
const DefaultProbeTimeout = 60 * time.Second

// Probe is the test of one configured engine (`qscan lint`).
type Probe struct {
	Name string // "virus clamd unix:/run/clamav/clamd.ctl"
	// Run tests the engine; it returns what it learnt (a version, a
	// score) and every problem found.
	Run     func(ctx context.Context) (info []string, errs []error)
	Timeout time.Duration // bounds Run; 0: DefaultProbeTimeout
}

// ProbeResult is what one Probe found.
type ProbeResult struct {
	Name string
	Info []string
	Errs []error
}

// RunProbes runs the probes side by side (a dead engine's timeout does not
// add to the others') and returns their results in order.
func RunProbes(ctx context.Context, ps []Probe) []ProbeResult {
	res := make([]ProbeResult, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := p.Timeout
			if d <= 0 {
				d = DefaultProbeTimeout
			}
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			info, errs := p.Run(ctx)
			res[i] = ProbeResult{Name: p.Name, Info: info, Errs: errs}
		}()
	}
	wg.Wait()
	return res
}
