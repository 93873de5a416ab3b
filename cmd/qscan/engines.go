package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/virus"
)

// engineWatch is told about engine state: the log (once per change), the
// metrics and the status file.
type engineWatch struct {
	log     logrus.FieldLogger
	metrics func(name string, up bool)
	status  func(name string, up bool, err string, since time.Time)
}

// observed wraps a virus engine so that each scan's outcome feeds its
// health.
type observed struct {
	virus.Scanner
	name   string
	health *virus.Health
	watch  *engineWatch
}

func (w *engineWatch) wrap(name string, s virus.Scanner) virus.Scanner {
	if w == nil {
		return s
	}
	o := &observed{Scanner: s, name: name, watch: w}
	var wasDown atomic.Bool
	o.health = virus.NewHealth(name, func(st virus.Status) {
		if st.State == virus.StateDown {
			wasDown.Store(true)
			w.log.WithError(st.LastError).Errorf("virus engine %s is down: messages are held until it is back", name)
		} else if wasDown.Swap(false) {
			w.log.Infof("virus engine %s is up", name)
		}
		if w.status != nil {
			msg := ""
			if st.LastError != nil {
				msg = st.LastError.Error()
			}
			w.status(name, st.State == virus.StateUp, msg, st.Since)
		}
	})
	return o
}

// Scan scans and records the outcome. While the engine is down, scans
// other than the one testing it fail at once (virus.Health.Admit).
func (o *observed) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	release, err := o.health.Admit(time.Now())
	if err != nil {
		return virus.Result{Engine: o.name}, err
	}
	defer release()
	res, err := o.Scanner.Scan(ctx, r)
	if err != nil && ctx.Err() == context.Canceled {
		return res, err
	}
	o.health.Observe(time.Now(), err)
	if o.watch.metrics != nil {
		o.watch.metrics(o.name, err == nil)
	}
	return res, err
}
