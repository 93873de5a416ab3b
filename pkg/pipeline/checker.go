package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/rebuild"
	"github.com/qscan/qscan/pkg/sendmail"
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
	extra   func(m *message.Message, d *message.Decision) []message.HeaderEdit
}

// CheckerOptions are the decision-making parts of Options.
type CheckerOptions struct {
	// Policy returns the settings for a message (from rulesets, later).
	Policy func(m *message.Message) policy.Settings
	// Cleaner rebuilds messages with parts removed; nil: such messages are
	// quarantined whole.
	Cleaner Cleaner
	// ExtraHeaders adds header edits for a delivered message (spam
	// headers). A spam action's "header" field of a name these set is
	// left out.
	ExtraHeaders func(m *message.Message, d *message.Decision) []message.HeaderEdit
}

// NewChecker returns a Checker for the stages, with the header options of o.
func NewChecker(stages []Stage, o Options) *Checker {
	c := &Checker{stages: stages, headers: o.Headers, policy: o.Checker.Policy, cleaner: o.Checker.Cleaner, extra: o.Checker.ExtraHeaders}
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
			o.whole = "not delivered: " + d.Verdict
		}
		return o
	}
	if len(d.Replace) > 0 && c.cleaner == nil {
		o.whole = d.Reason // nothing can take the parts out
		return o
	}
	if (len(d.Replace) > 0 || d.StripHTML || d.SpamAttachment) && c.cleaner != nil {
		body, edits, err := c.cleaner.Clean(m, &d)
		if err != nil {
			o.whole = fmt.Sprintf("%s (the message could not be cleaned: %v)", d.Reason, err)
			return o
		}
		o.body, o.edits = body, edits
	}
	for _, name := range c.ownHeaders() {
		o.edits = append(o.edits, message.HeaderEdit{Op: "delete", Name: name})
	}
	for _, h := range c.addedHeaders(m, d.HeaderValue) {
		o.edits = append(o.edits, message.HeaderEdit{Op: "add", Name: h[0], Value: h[1]})
	}
	if c.extra != nil {
		o.edits = append(o.edits, c.extra(m, &d)...)
	}
	o.edits = append(o.edits, actionHeaders(d.Headers, o.edits)...)
	return o
}

// actionHeaders returns the edits for the fields of the spam actions'
// "header" action, to come after edits. A field that edits set already
// is left out: the spam check's "X-Spam-Status: Yes, score=7.3 ..." says
// more than the shipped action's "X-Spam-Status: Yes", and two of them
// would contradict each other. The others replace the fields of the same
// name that came with the message, which a sender could have preset.
func actionHeaders(fields [][2]string, edits []message.HeaderEdit) []message.HeaderEdit {
	set := map[string]bool{}
	for _, e := range edits {
		if e.Op != "delete" {
			set[strings.ToLower(e.Name)] = true
		}
	}
	var dels, adds []message.HeaderEdit
	deleted := map[string]bool{}
	for _, f := range fields {
		low := strings.ToLower(f[0])
		if set[low] {
			continue
		}
		if !deleted[low] {
			deleted[low] = true
			dels = append(dels, message.HeaderEdit{Op: "delete", Name: f[0]})
		}
		adds = append(adds, message.HeaderEdit{Op: "add", Name: f[0], Value: f[1]})
	}
	return append(dels, adds...)
}

// headerName is X-<OrgName>-QScan.
func (c *Checker) headerName() string { return "X-" + c.headers.OrgName + "-QScan" }

// ownHeaders are the names of every header qscan adds; copies that arrive
// with a message are removed as forgeries.
func (c *Checker) ownHeaders() []string {
	b := c.headerName()
	return []string{b, b + "-ID", b + "-From", b + "-To"}
}

// addedHeaders lists the headers to add to a message with the given value.
func (c *Checker) addedHeaders(m *message.Message, value string) [][2]string {
	b := c.headerName()
	hs := [][2]string{{b, value}}
	if c.headers.AddID {
		hs = append(hs, [2]string{b + "-ID", m.ID})
	}
	if c.headers.AddFrom && m.Envelope.Sender != "" {
		hs = append(hs, [2]string{b + "-From", m.Envelope.Sender})
	}
	if c.headers.AddTo && len(m.Envelope.Recipients) > 0 {
		hs = append(hs, [2]string{b + "-To", strings.Join(m.Envelope.Recipients, ", ")})
	}
	return hs
}

// Result is the outcome of Check.
type Result struct {
	Verdict string
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
func (c *Checker) Check(ctx context.Context, m *message.Message, qf *sendmail.Qf) (Result, error) {
	if _, err := c.run(ctx, m); err != nil {
		return Result{Verdict: "error"}, err
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
		return Result{Verdict: "error"}, err
	}
	r.Header, r.Body = qf.HeaderBlock(), m.Body
	if o.body != nil {
		r.Body = o.body
	}
	return r, nil
}

// carryOut makes the changes of a delivered message's outcome on its
// queue file: the header edits, then the forward recipients.
func (c *Checker) carryOut(qf *sendmail.Qf, o outcome) error {
	if err := applyEdits(qf, o.edits, c.headers.AtTop); err != nil {
		return err
	}
	return forward(qf, o.d)
}
