package spamcheck

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

// EngineState is what the stage knows of one engine's health, for metrics
// and `qscan check`.
type EngineState struct {
	Up        bool      // the last call got an answer (or none was made yet)
	Paused    bool      // skipped after repeated timeouts, until PausedUntil
	Since     time.Time // when Up last changed (the stage's creation at first)
	LastError string    // the failure that took it down, or the last one since
	// PausedUntil is the end of the pause when Paused.
	PausedUntil time.Time
}

// states tracks every engine's state and logs each change once.
type states struct {
	log logrus.FieldLogger
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*EngineState
}

func newStates(log logrus.FieldLogger, now func() time.Time) *states {
	return &states{log: log, now: now, m: map[string]*EngineState{}}
}

func (st *states) add(name string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.m[name] = &EngineState{Up: true, Since: st.now()}
}

// observe notes the outcome of one call. An engine that refused one
// message (permanent) still answers, so it stays up.
func (st *states) observe(name string, err error, permanent bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[name]
	log := st.log.WithField("engine", name)
	switch {
	case err == nil || permanent:
		if !s.Up {
			s.Up, s.Since, s.Paused = true, st.now(), false
			log.Infof("spam engine %s answers again", name)
		}
	case s.Up:
		s.Up, s.Since, s.LastError = false, st.now(), oneLine(err)
		log.Warnf("spam engine %s is down: %s", name, s.LastError)
	default:
		s.LastError = oneLine(err)
	}
}

// paused is spam.Health's OnChange: the engine was paused, or its pause
// ended and it will be tried again.
func (st *states) paused(name string, paused bool, until time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[name]
	log := st.log.WithField("engine", name)
	s.Paused, s.PausedUntil = paused, until
	if !paused {
		log.Infof("spam engine %s: pause over, trying it again", name)
		return
	}
	if s.Up {
		s.Up, s.Since = false, st.now()
	}
	log.Warnf("spam engine %s paused until %s after repeated timeouts", name, until.Format(time.RFC3339))
}

// Health returns a copy of every engine's state, keyed by engine name
// ("spamd", "rspamd", "dnsbl").
func (s *Stage) Health() map[string]EngineState {
	s.states.mu.Lock()
	defer s.states.mu.Unlock()
	out := make(map[string]EngineState, len(s.states.m))
	for name, st := range s.states.m {
		out[name] = *st
	}
	return out
}

// Down lists the server engines (spamd, rspamd) whose last call failed
// or that are paused, sorted: while one is down and Options.HoldOnFailure
// is set, every message is held, so the SMTP filter stops taking mail.
func (s *Stage) Down() []string {
	var down []string
	for name, st := range s.Health() {
		if (name == spam.EngineSpamd || name == spam.EngineRspamd) && !st.Up {
			down = append(down, name)
		}
	}
	sort.Strings(down)
	return down
}

// Probe asks each server engine that is down (and not paused) about a
// small message of its own, so that an engine back in service is seen up
// without waiting for mail (which the filter refuses meanwhile). Each
// probe is a new message, never a cached verdict.
func (s *Stage) Probe(ctx context.Context) {
	for _, e := range s.engines {
		if e.name != spam.EngineSpamd && e.name != spam.EngineRspamd {
			continue
		}
		s.states.mu.Lock()
		up := s.states.m[e.name].Up
		s.states.mu.Unlock()
		if up {
			continue
		}
		nonce := make([]byte, 8)
		rand.Read(nonce)
		hdr := fmt.Sprintf("From: qscan-probe@localhost\nTo: qscan-probe@localhost\nSubject: qscan engine probe %x\nMessage-ID: <%x@qscan-probe>\n", nonce, nonce)
		m := &message.Message{ID: "probe", Header: []byte(hdr), Body: []byte("qscan checks that the spam engine answers.\n")}
		s.callEngine(ctx, e, s.newJob(m))
	}
}
