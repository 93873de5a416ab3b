package spamcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// outcome is what one engine said about one message.
type outcome struct {
	display   string // NameSpamAssassin, NameRspamd, NameDNSBL
	scoring   bool   // the engine gives a score
	score     float64
	rules     []message.SpamRule
	lists     []string // DNS lists that hit
	cached    bool     // from the cache: the engine was not asked
	noVerdict bool     // the engine answered but gave no verdict (rspamd skipped it)
}

// runFunc asks one engine about j.
type runFunc func(ctx context.Context, j *job) (outcome, error)

// engine is one configured engine with its health.
type engine struct {
	name   string // spam.EngineSpamd ...
	run    runFunc
	health *spam.Health
}

func (s *Stage) newEngine(name string, run runFunc) *engine {
	s.states.add(name)
	h := spam.NewHealth(spam.HealthOptions{
		Name: name, MaxTimeouts: s.opts.Spam.MaxTimeouts, Pause: s.opts.Spam.Pause, Now: s.now,
		OnChange: s.states.paused,
	})
	return &engine{name: name, run: run, health: h}
}

// call is one engine's answer for one message.
type call struct {
	eng *engine
	out outcome
	err error
}

// runAll asks every engine about j in parallel. A panic in an engine is
// turned into an error: it must not take the scanner down.
func (s *Stage) runAll(ctx context.Context, j *job) []call {
	calls := make([]call, len(s.engines))
	var wg sync.WaitGroup
	for i, e := range s.engines {
		calls[i].eng = e
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					calls[i].err = fmt.Errorf("spam engine %s: panic: %v", e.name, p)
					s.log.WithField("engine", e.name).Errorf("spam engine panic: %v\n%s", p, debug.Stack())
				}
			}()
			calls[i].out, calls[i].err = s.callEngine(ctx, e, j)
		})
	}
	wg.Wait()
	return calls
}

// callEngine asks e unless it is paused, and records the outcome in its
// health and state.
func (s *Stage) callEngine(ctx context.Context, e *engine, j *job) (outcome, error) {
	if !e.health.Allow() {
		return outcome{}, fmt.Errorf("%w until %s", ErrPaused, e.health.PausedUntil().Format("15:04:05"))
	}
	out, err := e.run(ctx, j)
	if out.cached {
		return out, nil
	}
	if err != nil && ctx.Err() != nil {
		return out, err // the message's time ran out: not the engine's fault
	}
	e.health.Record(err)
	s.states.observe(e.name, err, permanent(err))
	return out, err
}

// permanent reports whether retrying the message cannot cure err.
func permanent(err error) bool {
	return err != nil && (spamd.IsPermanent(err) || rspamd.IsPermanent(err))
}

func (s *Stage) spamdRunner(c SpamdClient) runFunc {
	return func(ctx context.Context, j *job) (outcome, error) {
		r, cached := s.spamdCache.Get(j.key)
		if !cached {
			var err error
			if r, err = c.Report(ctx, bytes.NewReader(j.sent)); err != nil {
				return outcome{}, err
			}
			s.spamdCache.Put(j.key, r)
		}
		out := outcome{display: NameSpamAssassin, scoring: true, score: r.Score, cached: cached}
		for _, rule := range r.Rules {
			out.rules = append(out.rules, message.SpamRule{Name: rule.Name, Score: rule.Score})
		}
		return out, nil
	}
}

func (s *Stage) rspamdRunner(c RspamdClient) runFunc {
	return func(ctx context.Context, j *job) (outcome, error) {
		r, cached := s.rspamdCache.Get(j.rspamdKey)
		if !cached {
			var err error
			if r, err = c.Check(ctx, j.req, bytes.NewReader(j.sent)); err != nil {
				return outcome{}, err
			}
			s.rspamdCache.Put(j.rspamdKey, r)
		}
		out := outcome{display: NameRspamd, scoring: !r.IsSkipped, score: r.Score, cached: cached, noVerdict: r.IsSkipped}
		for _, sym := range r.Symbols {
			out.rules = append(out.rules, message.SpamRule{Name: sym.Name, Score: sym.Score})
		}
		return out, nil
	}
}

// dnsblRunner asks the lists. The lists fail only when none hit and some
// did not answer; when every failure is a timeout the error says so, so
// that the engine's health counts it.
func (s *Stage) dnsblRunner(c ListChecker) runFunc {
	return func(ctx context.Context, j *job) (outcome, error) {
		r := c.Check(ctx, j.query)
		out := outcome{display: NameDNSBL, lists: r.Listed()}
		for _, name := range out.lists {
			out.rules = append(out.rules, message.SpamRule{Name: name})
		}
		if len(r.Hits) > 0 || len(r.TimedOut)+len(r.Errors) == 0 {
			return out, nil
		}
		var errs []error
		if len(r.TimedOut) > 0 {
			errs = append(errs, fmt.Errorf("%s timed out: %w", strings.Join(r.TimedOut, ","), context.DeadlineExceeded))
		}
		errs = append(errs, r.Errors...)
		return out, errors.Join(errs...)
	}
}

// combine turns the engines' answers into the result. hold is the first
// failure that Options.HoldOnFailure holds the message for.
func (s *Stage) combine(calls []call) (res *message.SpamResult, hold error) {
	pol := s.c.Policy
	in := spam.Input{}
	res = &message.SpamResult{Required: pol.Required, Cached: true}
	var failed []string
	haveScore := false
	answered := 0
	for _, c := range calls {
		if c.err != nil {
			failed = append(failed, failure(c.eng.name, c.err))
			if hold == nil && c.eng.name != spam.EngineDNSBL && !permanent(c.err) {
				hold = c.err
			}
			continue
		}
		answered++
		o := c.out
		res.Engines = append(res.Engines, o.display)
		res.Rules = append(res.Rules, o.rules...)
		in.Lists = append(in.Lists, o.lists...)
		if o.scoring && !haveScore { // spamd's score when it answered, else rspamd's
			in.Score, haveScore = o.score, true
		}
		res.Cached = res.Cached && (o.cached || !o.scoring)
	}
	v := spam.Decide(in, pol)
	res.Level, res.Score = v.Level, v.Score
	res.Cached = res.Cached && haveScore
	if len(failed) > 0 {
		res.Unchecked = clip(strings.Join(failed, "; "))
	}
	if answered == 0 {
		res.Engines, res.Rules = nil, nil
	}
	return res, hold
}

// failure names the engine in front of its error unless the error starts
// with it already ("spamd REPORT 127.0.0.1:783: ...").
func failure(name string, err error) string {
	text := oneLine(err)
	if strings.HasPrefix(text, name+" ") {
		return text
	}
	return name + ": " + text
}

// oneLine keeps an error's text on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
