package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/rebuild"
)

// Cleaner makes the delivered copy of a message: without the parts the
// decision takes out (each replaced by its warning text), and with the
// spam transformations it asks for (striphtml, attachment). It returns the
// new body and the header edits the new body needs (a new Content-Type).
type Cleaner interface {
	Clean(m *message.Message, d *message.Decision) (body []byte, edits []message.HeaderEdit, err error)
}

var _ Cleaner = (*rebuild.Cleaner)(nil)

// Checker runs the stages on a message and decides what becomes of it. The
// pipeline uses it for queued mail; `qscan scan` uses it on files.
type Checker struct {
	stages  []Stage
	headers Headers
	policy  func(m *message.Message) policy.Settings
	cleaner Cleaner
	spam    func(m *message.Message) ([]message.HeaderEdit, error)
	log     logrus.FieldLogger
}

// CheckerOptions are the decision-making parts of Options.
type CheckerOptions struct {
	// Policy returns the settings for a message (from rulesets, later).
	Policy func(m *message.Message) policy.Settings
	// Cleaner rebuilds messages with parts removed; nil: such messages are
	// quarantined whole.
	Cleaner Cleaner
	// SpamHeaders returns the spam check's header edits for a delivered
	// message (spamcheck.DeliveredHeaders); nil: none. A spam action's
	// "header" field of a name these set is left out.
	SpamHeaders func(m *message.Message) ([]message.HeaderEdit, error)
	// Log gets the spam headers that could not be made; nil: none.
	Log logrus.FieldLogger
}

// NewChecker returns a Checker for the stages, with the header options of o.
func NewChecker(stages []Stage, o Options) *Checker {
	c := &Checker{stages: stages, headers: o.Headers, policy: o.Checker.Policy, cleaner: o.Checker.Cleaner, spam: o.Checker.SpamHeaders, log: o.Checker.Log}
	if c.policy == nil {
		c.policy = func(*message.Message) policy.Settings {
			return policy.Settings{DeliverCleaned: true}
		}
	}
	return c
}

// run runs every stage in order and returns each stage's milliseconds.
func (c *Checker) run(ctx context.Context, m *message.Message) (map[string]int64, error) {
	ms := make(map[string]int64, len(c.stages))
	for _, s := range c.stages {
		if err := ctx.Err(); err != nil {
			// The message's time is up: a check abandoned by the pipeline
			// starts no more work.
			return ms, fmt.Errorf("before %s: %w", s.Name(), err)
		}
		t := time.Now()
		err := s.Check(ctx, m)
		ms[s.Name()] = time.Since(t).Milliseconds()
		if err != nil {
			return ms, fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	return ms, nil
}

// outcome is a decision carried out in memory.
type outcome struct {
	d     message.Decision
	whole string               // non-empty: quarantine the whole message for this reason
	body  []byte               // rebuilt body; nil: unchanged
	edits []message.HeaderEdit // to apply to the header, in order
}

// decide runs the policy and, for a delivered message, rebuilds it and
// lists the header edits. A message that cannot be rebuilt is kept whole:
// never deliver what a check objected to.
func (c *Checker) decide(m *message.Message) outcome {
	s := c.policy(m)
	if s.CleanValue == "" {
		s.CleanValue = c.headers.Clean
	}
	d := policy.Decide(m, s)
	// The spam result as the decision leveled it, with the message's own
	// thresholds: what the headers, the notices and the log say.
	m.Spam = d.Spam
	o := outcome{d: d}
	if !d.Deliver {
		o.whole = d.Reason
		if o.whole == "" {
			o.whole = "not delivered: " + string(d.Verdict)
		}
		return o
	}
	if (len(d.Replace) > 0 || len(d.Rename) > 0) && c.cleaner == nil {
		o.whole = d.Reason // nothing can take the parts out
		return o
	}
	if (len(d.Replace) > 0 || len(d.Disarm) > 0 || len(d.Rename) > 0 || len(d.Unpack) > 0 || d.StripHTML || d.SpamAttachment || c.rewrites(m, &d)) && c.cleaner != nil {
		body, edits, err := c.cleaner.Clean(m, &d)
		if err != nil {
			o.whole = fmt.Sprintf("%s (the message could not be cleaned: %v)", d.Reason, err)
			return o
		}
		o.body, o.edits = body, edits
	}
	o.edits = c.headerEdits(m, &d, o.edits)
	return o
}

// rewrites asks a cleaner that may change mail no report is about
// (signatures, banners) whether it has work for m.
func (c *Checker) rewrites(m *message.Message, d *message.Decision) bool {
	rw, ok := c.cleaner.(interface {
		Rewrites(m *message.Message, d *message.Decision) bool
	})
	return ok && rw.Rewrites(m, d)
}

// Result is the outcome of Check.
type Result struct {
	Verdict message.Verdict
	Reason  string // why the whole message is kept back, if it is
	// Header and Body are the message as it would be delivered: the queue
	// file's header block as sendmail delivers it (LF line ends, no blank
	// line) and the body as the pipeline writes the df. Both nil when the
	// message is kept back or Check had no queue file. Body shares the
	// checked message's array when it is unchanged.
	Header, Body []byte
}

// Check runs the stages on m and decides, as the pipeline does for a queued
// message. qf is m's queue file (m.Header is its header block): for a
// delivered message Check makes on it the changes that the pipeline makes
// on the outgoing qf, with the same code. qf nil: the verdict only.
func (c *Checker) Check(ctx context.Context, m *message.Message, qf Control) (Result, error) {
	if _, err := c.run(ctx, m); err != nil {
		return Result{Verdict: message.VerdictError}, err
	}
	o := c.decide(m)
	if o.whole != "" {
		return Result{Verdict: o.d.Verdict, Reason: o.whole}, nil
	}
	r := Result{Verdict: o.d.Verdict, Reason: o.d.Reason}
	if qf == nil {
		return r, nil
	}
	if err := c.carryOut(qf, o); err != nil {
		return Result{Verdict: message.VerdictError}, err
	}
	r.Header, r.Body = qf.HeaderBlock(), m.Body
	if o.body != nil {
		r.Body = o.body
	}
	return r, nil
}

// carryOut makes the changes of a delivered message's outcome on its
// queue file: the header edits, then the forward recipients.
func (c *Checker) carryOut(qf Control, o outcome) error {
	if err := qf.Edit(o.edits, c.headers.AtTop); err != nil {
		return err
	}
	if len(o.d.Forward) == 0 {
		return nil
	}
	// The spam "forward" addresses, replacing the original recipients
	// when the message goes only to them.
	return qf.Forward(o.d.Forward, o.d.ForwardOnly)
}
