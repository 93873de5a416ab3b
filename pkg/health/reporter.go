package health

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// ReporterOptions tune how often a Reporter writes the status file.
type ReporterOptions struct {
	// Every is the heartbeat: Flush writes at least this often even when
	// nothing changed, so that a status older than a few heartbeats means
	// a stuck daemon. Default 30s.
	Every time.Duration
	// MinInterval is the least time between two writes caused by routine
	// changes (a batch done, the held count). An engine going up or down
	// is written at the next Flush regardless. Default 2s.
	MinInterval time.Duration
}

// Default reporter timings.
const (
	DefaultEvery       = 30 * time.Second
	DefaultMinInterval = 2 * time.Second
)

// Reporter keeps the daemon's status in memory and writes it to the status
// file on Flush. The pipeline and cmd call its methods from any goroutine.
type Reporter struct {
	dir string
	o   ReporterOptions

	writeMu sync.Mutex // serialises Flush writes; taken before mu

	mu sync.Mutex
	s  Status
	// running holds the start times of the batches in progress, oldest
	// first: batches overlap (one is committed while the next is checked)
	// and end in the order they began.
	running   []time.Time
	dirty     bool      // changed since the last write
	urgent    bool      // an engine changed state since the last write
	lastWrite time.Time // zero: never written
}

// NewReporter returns a Reporter writing dir/status.json. The pid, version
// and start time are taken from initial; its other fields are the starting
// state.
func NewReporter(dir string, initial Status, o ReporterOptions) *Reporter {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.MinInterval <= 0 {
		o.MinInterval = DefaultMinInterval
	}
	initial.Engines = maps.Clone(initial.Engines)
	if initial.Engines == nil {
		initial.Engines = map[string]EngineStatus{}
	}
	return &Reporter{dir: dir, o: o, s: initial, dirty: true, urgent: true}
}

// SetEngine records the state of one engine. errText is the failure when
// the engine is down (kept as LastError after it comes back).
func (r *Reporter) SetEngine(name string, up bool, errText string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, known := r.s.Engines[name]
	if !known || e.Up != up {
		e.Up = up
		e.Since = now
		r.urgent = true
		r.dirty = true
	}
	if errText != "" && errText != e.LastError {
		e.LastError = errText
		r.dirty = true
	}
	r.s.Engines[name] = e
}

// BatchStart records that a batch began at now. BatchStarted shows the
// start of the oldest batch still in progress.
func (r *Reporter) BatchStart(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = append(r.running, now)
	r.s.BatchStarted = r.running[0]
	r.dirty = true
}

// BatchDone records that the oldest batch in progress ended at now.
func (r *Reporter) BatchDone(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.LastBatch = now
	if len(r.running) > 0 {
		r.running = r.running[1:]
	}
	r.s.BatchStarted = time.Time{}
	if len(r.running) > 0 {
		r.s.BatchStarted = r.running[0]
	}
	r.dirty = true
}

// SetFilter records the SMTP filter's back-pressure state: why it refuses
// new mail ("" while it accepts) and its spool's depth.
func (r *Reporter) SetFilter(refusing string, depth int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.Refusing != refusing {
		r.urgent = true
	}
	if r.s.Refusing != refusing || r.s.SpoolDepth != depth {
		r.s.Refusing, r.s.SpoolDepth = refusing, depth
		r.dirty = true
	}
}

// SetHeld records how many messages are held back in the incoming queues.
func (r *Reporter) SetHeld(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.Held != n {
		r.s.Held = n
		r.dirty = true
	}
}

// Snapshot returns a copy of the current status.
func (r *Reporter) Snapshot() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.Engines = maps.Clone(r.s.Engines)
	return s
}

// Flush writes the status file when it is due: on the first call, when an
// engine changed state, when something changed and MinInterval has passed,
// or when Every has passed since the last write. Call it after each batch
// and from a ticker (every few seconds) so that the heartbeat keeps going.
func (r *Reporter) Flush(now time.Time) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	since := now.Sub(r.lastWrite)
	due := r.lastWrite.IsZero() || r.urgent || since >= r.o.Every ||
		(r.dirty && since >= r.o.MinInterval)
	if !due {
		r.mu.Unlock()
		return nil
	}
	r.s.Updated = now
	s := r.s
	s.Engines = maps.Clone(r.s.Engines)
	r.dirty, r.urgent = false, false
	r.mu.Unlock()

	if err := WriteStatus(r.dir, s); err != nil {
		r.mu.Lock()
		r.dirty, r.urgent = true, true // try again at the next Flush
		r.mu.Unlock()
		return err
	}
	r.mu.Lock()
	r.lastWrite = now
	r.mu.Unlock()
	return nil
}

// HeartbeatEvery is how often Heartbeat writes the status file.
const HeartbeatEvery = 5 * time.Second

// Heartbeat keeps the status file fresh while the daemon waits for mail,
// until ctx ends: a status that stops changing means a stuck daemon to
// `qscan check`. A nil r does nothing.
func (r *Reporter) Heartbeat(ctx context.Context, log logrus.FieldLogger) {
	if r == nil {
		return
	}
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		if err := r.Flush(time.Now()); err != nil {
			log.WithError(err).Warn("cannot write the status file")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
