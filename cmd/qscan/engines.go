package main

import (
	"cmp"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/virus"
)

// defaultProbeEvery is how often a virus engine that is down and can be
// probed (clamd) is tested in the background.
const defaultProbeEvery = 5 * time.Second

// engineWatch is told about engine state: the log (once per change), the
// metrics and the status file. While the daemon runs it also probes the
// engines that are down and, when one is back, has the mail it held
// retried at once.
type engineWatch struct {
	log     logrus.FieldLogger
	metrics func(name string, up bool)
	status  func(name string, up bool, err string, since time.Time)
	// probeEvery: see defaultProbeEvery; 0 means the default.
	probeEvery time.Duration

	mu   sync.Mutex
	ctx  context.Context // the running generation's; nil: no probing
	onUp func()          // called when an engine is found back
	// closers are the engines wrapped since the last endGeneration that
	// hold resources (clamd's open sessions).
	closers []io.Closer
}

// setGeneration ties probing to ctx (probes stop when it ends) and names
// what to do when an engine is back.
func (w *engineWatch) setGeneration(ctx context.Context, onUp func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ctx, w.onUp = ctx, onUp
}

// endGeneration stops both until the next setGeneration, and closes the
// engines wrapped for the generation: after a reload the old clamd client
// does not keep its sessions open.
func (w *engineWatch) endGeneration() {
	w.mu.Lock()
	closers := w.closers
	w.ctx, w.onUp, w.closers = nil, nil, nil
	w.mu.Unlock()
	for _, c := range closers {
		c.Close()
	}
}

func (w *engineWatch) generation() (context.Context, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctx, w.onUp
}

// observed wraps a virus engine so that each scan's outcome feeds its
// health.
type observed struct {
	virus.Scanner
	name    string
	health  *virus.Health
	watch   *engineWatch
	probing atomic.Bool // the probe loop was started
}

func (w *engineWatch) wrap(name string, s virus.Scanner) virus.Scanner {
	if w == nil {
		return s
	}
	if c, ok := s.(io.Closer); ok {
		w.mu.Lock()
		w.closers = append(w.closers, c)
		w.mu.Unlock()
	}
	o := &observed{Scanner: s, name: name, watch: w}
	var wasDown atomic.Bool
	o.health = virus.NewHealth(name, func(st virus.Status) {
		if st.State == virus.StateDown {
			wasDown.Store(true)
			w.log.WithError(st.LastError).Errorf("virus engine %s is down: messages are held until it is back", name)
			o.startProbing()
		} else if wasDown.Swap(false) {
			w.log.Infof("virus engine %s is up", name)
			if _, onUp := w.generation(); onUp != nil {
				onUp()
			}
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
	o.observe(err)
	return res, err
}

func (o *observed) observe(err error) {
	o.health.Observe(time.Now(), err)
	if o.watch.metrics != nil {
		o.watch.metrics(o.name, err == nil)
	}
}

// startProbing starts, at the engine's first failure in a generation, a
// loop that tests it every probeEvery while it is down, until the
// daemon's generation ends: held mail then goes out within seconds of
// the engine's return rather than at its retry time.
func (o *observed) startProbing() {
	p, ok := o.Scanner.(virus.Prober)
	ctx, _ := o.watch.generation()
	if !ok || ctx == nil || !o.probing.CompareAndSwap(false, true) {
		return
	}
	every := cmp.Or(o.watch.probeEvery, defaultProbeEvery)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if o.health.Status().State != virus.StateDown {
				continue
			}
			release, err := o.health.Admit(time.Now())
			if err != nil {
				continue // a message's scan is testing it, or it failed just now
			}
			pctx, cancel := context.WithTimeout(ctx, every)
			err = p.Probe(pctx)
			cancel()
			release()
			if ctx.Err() == nil {
				o.observe(err)
			}
		}
	}()
}
