package virus

import (
	"cmp"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultProbeEvery is how often a virus engine that is down and can be
// probed (clamd) is tested in the background.
const DefaultProbeEvery = 5 * time.Second

// Watch is told about the engines' state (see Health): the log (once per
// change), the metrics and the status file. While the daemon runs it also
// probes the engines that are down and, when one is back, has the mail
// it held retried at once.
type Watch struct {
	Log     logrus.FieldLogger
	Metrics func(name string, up bool)                              // nil: none
	Status  func(name string, up bool, err string, since time.Time) // nil: none
	// ProbeEvery: see DefaultProbeEvery; 0 means the default.
	ProbeEvery time.Duration

	mu   sync.Mutex
	ctx  context.Context // the running generation's; nil: no probing
	onUp func()          // called when an engine is found back
	// closers are the engines wrapped since the last EndGeneration that
	// hold resources (clamd's open sessions).
	closers []io.Closer
}

// SetGeneration ties probing to ctx (probes stop when it ends) and names
// what to do when an engine is back.
func (w *Watch) SetGeneration(ctx context.Context, onUp func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ctx, w.onUp = ctx, onUp
}

// EndGeneration stops both until the next SetGeneration, and closes the
// engines wrapped for the generation: after a reload the old clamd client
// does not keep its sessions open.
func (w *Watch) EndGeneration() {
	w.mu.Lock()
	closers := w.closers
	w.ctx, w.onUp, w.closers = nil, nil, nil
	w.mu.Unlock()
	for _, c := range closers {
		c.Close()
	}
}

func (w *Watch) generation() (context.Context, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctx, w.onUp
}

// observed wraps a virus engine so that each scan's outcome feeds its
// health.
type observed struct {
	Scanner
	name    string
	health  *Health
	watch   *Watch
	probing atomic.Bool // the probe loop was started
}

// Wrap returns s with each scan's outcome feeding its Health and w; the
// engines wrapped in a generation that hold resources are closed when it
// ends.
func (w *Watch) Wrap(name string, s Scanner) Scanner {
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
	o.health = NewHealth(name, func(st Status) {
		if st.State == StateDown {
			wasDown.Store(true)
			w.Log.WithError(st.LastError).Errorf("virus engine %s is down: messages are held until it is back", name)
			o.startProbing()
		} else if wasDown.Swap(false) {
			w.Log.Infof("virus engine %s is up", name)
			if _, onUp := w.generation(); onUp != nil {
				onUp()
			}
		}
		if w.Status != nil {
			msg := ""
			if st.LastError != nil {
				msg = st.LastError.Error()
			}
			w.Status(name, st.State == StateUp, msg, st.Since)
		}
	})
	if _, ok := s.(BatchScanner); ok {
		return &observedBatch{o}
	}
	return o
}

// BatchScanner is an engine that also scans many contents in one run (a
// command-line scanner, once per message); results are in the order of
// contents.
type BatchScanner interface {
	Scanner
	ScanAll(ctx context.Context, contents [][]byte) ([]Result, error)
}

// observedBatch is observed for a BatchScanner: one run is one outcome.
type observedBatch struct{ *observed }

func (o *observedBatch) ScanAll(ctx context.Context, contents [][]byte) ([]Result, error) {
	release, err := o.health.Admit(time.Now())
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := o.Scanner.(BatchScanner).ScanAll(ctx, contents)
	if err != nil && ctx.Err() == context.Canceled {
		return res, err
	}
	o.observe(err)
	return res, err
}

// Scan scans and records the outcome. While the engine is down, scans
// other than the one testing it fail at once (Health.Admit).
func (o *observed) Scan(ctx context.Context, r io.Reader) (Result, error) {
	release, err := o.health.Admit(time.Now())
	if err != nil {
		return Result{Engine: o.name}, err
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
	if o.watch.Metrics != nil {
		o.watch.Metrics(o.name, err == nil)
	}
}

// startProbing starts, at the engine's first failure in a generation, a
// loop that tests it every probeEvery while it is down, until the
// daemon's generation ends: held mail then goes out within seconds of
// the engine's return rather than at its retry time.
func (o *observed) startProbing() {
	p, ok := o.Scanner.(Prober)
	ctx, _ := o.watch.generation()
	if !ok || ctx == nil || !o.probing.CompareAndSwap(false, true) {
		return
	}
	every := cmp.Or(o.watch.ProbeEvery, DefaultProbeEvery)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if o.health.Status().State != StateDown {
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
