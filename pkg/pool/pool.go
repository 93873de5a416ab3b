// Package pool spreads the requests of one engine (clamd, spamd, rspamd)
// over several servers: the server with the fewest requests outstanding
// first, a server that fails taken out and health-checked until it
// answers again, and a request that failed on one server tried on the
// next. It knows nothing of the engines: a server is any value S with a
// probe.
//
// Only when every server has failed the request does the pool return an
// error, so the caller's hold-on-failure (nothing goes out unscanned)
// applies when all are down, never because one of them is.
package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNoServer is returned by Do on a pool without servers.
var ErrNoServer = errors.New("pool: no server")

// Options configure a Pool.
type Options[S any] struct {
	// Probe tells whether a server answers (clamd PING, spamd PING, an
	// HTTP ping); it is called on a server taken out, every ProbeEvery,
	// until it succeeds.
	Probe func(ctx context.Context, s S) error
	// ProbeEvery is how often a server taken out is probed (default 2 s);
	// ProbeTimeout bounds one probe (default 5 s).
	ProbeEvery   time.Duration
	ProbeTimeout time.Duration
	// OnChange, if set, is called when a server is taken out (err set) or
	// put back (err nil).
	OnChange func(name string, up bool, err error)
}

// Member is one server of a pool and its name (its address) for the log.
type Member[S any] struct {
	Name   string
	Server S
}

type member[S any] struct {
	Member[S]
	outstanding int
	down        bool
	lastErr     error
	since       time.Time
	probing     bool
}

// Pool is a set of servers of one engine. It is safe for concurrent use.
type Pool[S any] struct {
	opt     Options[S]
	mu      sync.Mutex
	members []*member[S]
	next    int // where the search for the least loaded starts (round robin among equals)
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  bool
}

// New returns a pool over members, all taken to be up.
func New[S any](members []Member[S], opt Options[S]) *Pool[S] {
	if opt.ProbeEvery <= 0 {
		opt.ProbeEvery = 2 * time.Second
	}
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = 5 * time.Second
	}
	p := &Pool[S]{opt: opt, stop: make(chan struct{})}
	for _, m := range members {
		p.members = append(p.members, &member[S]{Member: m})
	}
	return p
}

// Len is the number of servers.
func (p *Pool[S]) Len() int { return len(p.members) }

// Do runs f on the least loaded server that is up; if f fails, the server
// is taken out and f runs on the next, until one succeeds or every server
// was tried (the servers taken out too, last: one may be back before its
// probe says so). f must be safe to run again (the caller rewinds what it
// sends). It returns f's last error, wrapped with the server's name, when
// all failed, and stops at once when ctx ends.
func (p *Pool[S]) Do(ctx context.Context, f func(S) error) error {
	if len(p.members) == 0 {
		return ErrNoServer
	}
	tried := make([]bool, len(p.members))
	var errs []error
	for {
		i := p.pick(tried)
		if i < 0 {
			return errors.Join(errs...)
		}
		tried[i] = true
		m := p.members[i]
		err := f(m.Server)
		p.done(i, err, ctx.Err() != nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err // the request's time is up: not the server's fault
		}
		errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
	}
}

// pick takes the untried server that is up with the fewest requests
// outstanding, else the untried one taken out longest ago; -1 when every
// server was tried. The chosen one counts one request more.
func (p *Pool[S]) pick(tried []bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	n := len(p.members)
	for k := 0; k < n; k++ {
		i := (p.next + k) % n
		m := p.members[i]
		if tried[i] || m.down {
			continue
		}
		if best < 0 || m.outstanding < p.members[best].outstanding {
			best = i
		}
	}
	if best < 0 {
		for i, m := range p.members {
			if !tried[i] && (best < 0 || m.since.Before(p.members[best].since)) {
				best = i
			}
		}
	}
	if best >= 0 {
		p.members[best].outstanding++
		p.next = (best + 1) % n
	}
	return best
}

// done records the outcome of a request on server i: a failure takes it
// out (and starts its probe), a success puts it back. A request cut short
// by its own context says nothing about the server.
func (p *Pool[S]) done(i int, err error, cancelled bool) {
	p.mu.Lock()
	m := p.members[i]
	m.outstanding--
	var change func()
	switch {
	case err == nil && m.down:
		m.down, m.since = false, time.Now()
		change = func() { p.changed(m.Name, true, nil) }
	case err != nil && !cancelled && !m.down:
		m.down, m.lastErr, m.since = true, err, time.Now()
		change = func() { p.changed(m.Name, false, err) }
		p.startProbe(m)
	}
	p.mu.Unlock()
	if change != nil {
		change()
	}
}

func (p *Pool[S]) changed(name string, up bool, err error) {
	p.mu.Lock()
	f := p.opt.OnChange
	p.mu.Unlock()
	if f != nil {
		f(name, up, err)
	}
}

// SetOnChange sets Options.OnChange.
func (p *Pool[S]) SetOnChange(f func(name string, up bool, err error)) {
	p.mu.Lock()
	p.opt.OnChange = f
	p.mu.Unlock()
}

// startProbe probes m until it answers; called with p.mu held.
func (p *Pool[S]) startProbe(m *member[S]) {
	if m.probing || p.closed || p.opt.Probe == nil {
		return
	}
	m.probing = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.opt.ProbeEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			p.mu.Lock()
			down := m.down
			p.mu.Unlock()
			if !down { // a request found it back first
				p.mu.Lock()
				m.probing = false
				p.mu.Unlock()
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), p.opt.ProbeTimeout)
			err := p.opt.Probe(ctx, m.Server)
			cancel()
			if err != nil {
				continue
			}
			p.mu.Lock()
			back := m.down
			m.down, m.probing, m.since = false, false, time.Now()
			p.mu.Unlock()
			if back {
				p.changed(m.Name, true, nil)
			}
			return
		}
	}()
}

// Status is what the pool knows of one server.
type Status struct {
	Name        string
	Up          bool
	Since       time.Time // when it was last taken out or put back; zero: up from the start
	LastError   error
	Outstanding int
}

// Status returns the state of every server, in the order given to New.
func (p *Pool[S]) Status() []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Status, len(p.members))
	for i, m := range p.members {
		out[i] = Status{Name: m.Name, Up: !m.down, Since: m.since, LastError: m.lastErr, Outstanding: m.outstanding}
	}
	return out
}

// Close stops the probes.
func (p *Pool[S]) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
