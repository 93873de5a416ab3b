package pipeline

import (
	"time"

	"github.com/qscan/qscan/pkg/health"
)

// WithStatus returns o that also feeds the status file `qscan check`
// reads (health.Reporter).
func WithStatus(o Observer, r *health.Reporter) Observer {
	return statusObserver{Observer: o, r: r}
}

type statusObserver struct {
	Observer // metrics, or a no-op
	r        *health.Reporter
}

func (o statusObserver) BatchStart(n int) {
	o.r.BatchStart(time.Now())
	o.Observer.BatchStart(n)
}

func (o statusObserver) Batch(n int, total, claim, attempts, commit time.Duration) {
	o.r.BatchDone(time.Now())
	o.r.Flush(time.Now())
	o.Observer.Batch(n, total, claim, attempts, commit)
}

func (o statusObserver) Held(n int) {
	o.r.SetHeld(n)
	o.Observer.Held(n)
}
