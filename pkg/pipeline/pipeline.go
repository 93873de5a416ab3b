// Package pipeline is qscan's batch loop: it claims messages from the
// incoming queues, runs the checks, and commits each message to the
// outgoing queue (or the quarantine) with the durable protocol described in
// journal.go. It is the only package that knows the order of the stages.
package pipeline

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/sendmail"
)

// Stage is one check. It reads the message and appends reports. An error
// means the check could not be done (an engine is down, timed out): the
// message is held in the incoming queue and retried later, never delivered
// unchecked.
type Stage interface {
	Name() string
	Check(ctx context.Context, m *message.Message) error
}

// Attempts counts processing attempts durably (see pkg/store).
type Attempts interface {
	BumpAttempts(ctx context.Context, ids []string, now time.Time) (map[string]int, error)
	UndoAttempt(ctx context.Context, id string) error
	ClearAttempts(ctx context.Context, ids []string) error
}

// Quarantine keeps messages and parts that must not be delivered (see
// pkg/quarantine). An entry is staged first, out of sight, and published
// with the commit of its batch, so that the quarantine follows the same
// commit discipline as the outgoing queue: one entry per message whatever
// the crashes.
type Quarantine interface {
	// Stage writes an entry durably under a staged name that no listing
	// shows. It returns the staged directory and the entry directory it
	// will most likely have once published.
	Stage(q Quarantined) (staged, dir string, err error)
	// Publish makes a staged entry an entry and returns its directory.
	// Publishing again what was published returns its directory.
	Publish(staged string) (dir string, err error)
	// Discard removes a staged entry whose batch is not committed.
	Discard(staged string) error
	// Staged lists the staged entries left (by a crash).
	Staged() ([]StagedEntry, error)
}

// StagedEntry is a staged quarantine entry and its message's queue ID.
type StagedEntry struct {
	Dir string
	ID  string
}

// Quarantined is a message as it was in the incoming queue, kept whole or
// with the parts that were taken out of its delivered copy. Qf or Df may
// be nil when that file was missing or unreadable.
type Quarantined struct {
	Whole    bool // not delivered at all
	Parts    []QuarantinedPart
	Reports  []string
	ID       string
	Qf, Df   []byte
	Envelope message.Envelope
	Header   []byte // RFC 822 header block, when the qf could be parsed
	Subject  string
	Reason   string
	Time     time.Time
}

// QuarantinedPart is one part taken out of a delivered message.
type QuarantinedPart struct {
	Filename string // as named in the message; never used as a path
	Report   string
	Data     []byte
}

// Headers configures the headers qscan adds.
type Headers struct {
	OrgName string // X-<OrgName>-QScan
	Clean   string // value for a clean message
	AddFrom bool
	AddTo   bool
	AddID   bool
	AtTop   bool
	// SubjectTags tag the subject of a message some part of which was
	// taken out, by the kind of report that took it out (a virus tag
	// first); "" or none: no tag.
	SubjectTags map[message.ReportKind]string
	// Remove names the fields deleted from a delivered message
	// (MailScanner's "Remove These Headers"); nil: none.
	Remove func(m *message.Message) []string
}

// Options configure a Pipeline.
type Options struct {
	Incoming       []string
	Outgoing       string
	WorkDir        string
	MaxMessages    int
	MaxBytes       int64
	MaxAttempts    int
	Workers        int
	MessageTimeout time.Duration
	RetryMin       time.Duration
	RetryMax       time.Duration
	// SetAsideAfter is how old a message with a missing df or an empty qf
	// must be before it counts as corrupt rather than still being written,
	// and one whose files qscan cannot open or read before it is set aside
	// (renamed Qf<ID>) rather than retried.
	SetAsideAfter time.Duration
	Headers       Headers
	// MTA is the format of the queues; nil: sendmail's, with QfLimits.
	MTA      MTA
	Kick     Kicker // runs the outgoing MTA on the IDs of each batch; nil: none
	QfLimits sendmail.Limits
	Checker  CheckerOptions
	// Notifier writes the postmaster report of each batch; nil: none.
	Notifier Notifier
	// Observer receives metrics; nil: none.
	Observer Observer
	// LogSink receives the message log's records, one call per batch;
	// nil: none. Host names this scanner in them.
	LogSink LogSink
	Host    string
	// Reinject, when set, sends each checked message back to the MTA
	// over SMTP instead of writing it to Outgoing (the SMTP content
	// filter: MTA is then Spool, the incoming queue its spool; see
	// deliver.go). ReinjectParallel messages are sent at once (default
	// 4). OnReject says what a downstream 5xx for some recipients does:
	// "bounce" (default: a DSN to the sender, with DSN's options) or
	// "hold" (the message is kept for them).
	Reinject         Sender
	ReinjectParallel int
	OnReject         string
	DSN              reinject.DSNOptions
}

// Pipeline runs batches. Create it with New; Close it when done.
type Pipeline struct {
	opt        Options
	log        logrus.FieldLogger
	attempts   Attempts
	quarantine Quarantine
	checker    *Checker
	notifier   Notifier
	obs        Observer
	now        func() time.Time
	journal    *journal
	mta        MTA
	held       *holds
	busy       *busy         // entries their writer still had when last tried
	workers    chan struct{} // a slot per message being checked (Workers)
	pending    []Entry       // listed but not yet looked at (see claim)
	listedAt   time.Time
	// checking: the IDs of the batch still being checked while the next
	// one claims (runBatches): locked by us, not tried.
	checking  map[string]bool
	kicks     sync.WaitGroup
	kickState kickState
	undoLater undoQueue // attempts the store could not take back yet
	// spooled is set when a commit put reports into the filter's spool,
	// so that a drain runs one more batch for them.
	spooled atomic.Bool
	// failpoint, set by tests only, is called at the steps of a batch
	// commit where a crash is modelled ("staged", "prepared",
	// "committed", "published"); it may panic.
	failpoint func(step string)
}

// New prepares a pipeline and runs start-up recovery (finishing or undoing
// batches a crash interrupted).
func New(opt Options, log logrus.FieldLogger, att Attempts, q Quarantine, stages []Stage, now func() time.Time) (*Pipeline, error) {
	if opt.Workers <= 0 {
		opt.Workers = 2 * runtime.NumCPU()
	}
	if opt.SetAsideAfter <= 0 {
		opt.SetAsideAfter = time.Minute
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(opt.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("pipeline work dir %s: %w", opt.WorkDir, err)
	}
	j, err := openJournal(opt.WorkDir)
	if err != nil {
		return nil, err
	}
	obs := opt.Observer
	if obs == nil {
		obs = NopObserver{}
	}
	mta := opt.MTA
	if mta == nil {
		mta = NewSendmail(opt.QfLimits, now)
	}
	p := &Pipeline{
		mta: mta,
		obs: obs,
		opt: opt, log: log, attempts: att, quarantine: q, checker: NewChecker(stages, opt), notifier: opt.Notifier, now: now, journal: j,
		held:    newHolds(opt.RetryMin, opt.RetryMax),
		busy:    newBusy(),
		workers: make(chan struct{}, opt.Workers),
	}
	if err := p.recover(); err != nil {
		j.close()
		return nil, err
	}
	return p, nil
}

// Close waits for outstanding kicks, closes the re-injection's
// connections and the journal.
func (p *Pipeline) Close() error {
	p.kicks.Wait()
	if c, ok := p.opt.Reinject.(interface{ Close() error }); ok {
		c.Close()
	}
	return p.journal.close()
}

// Queues returns the MTA of the incoming queues and their directories
// (what the watcher watches).
func (p *Pipeline) Queues() (MTA, []string) { return p.mta, p.opt.Incoming }

// RetryHeld lets the messages held because a check could not be done (an
// engine down or failing) be tried again at once, instead of after their
// backoff: call it when an engine is found back, then wake Run. It returns
// how many messages it released.
func (p *Pipeline) RetryHeld() int {
	n := p.held.releaseChecks()
	p.obs.Held(p.held.count())
	return n
}

// Run processes batches whenever wake signals, until ctx is cancelled. The
// batches in progress when ctx is cancelled are finished first.
func (p *Pipeline) Run(ctx context.Context, wake <-chan struct{}, poke func()) error {
	var retry *time.Timer
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
		if err := p.runBatches(context.WithoutCancel(ctx), func() bool { return ctx.Err() != nil }); err != nil {
			return err
		}
		if next, ok := p.nextTry(); ok && poke != nil {
			if retry != nil {
				retry.Stop()
			}
			retry = time.AfterFunc(time.Until(next), poke)
		}
	}
}

// nextTry is the earliest time a held or busy message is to be tried
// again.
func (p *Pipeline) nextTry() (time.Time, bool) {
	next, ok := p.held.next()
	if b, bok := p.busy.next(); bok && (!ok || b.Before(next)) {
		next, ok = b, true
	}
	return next, ok
}

// Drain processes batches until no claimable message is left (messages
// held back for a retry do not count). It returns the number of messages
// still held.
func (p *Pipeline) Drain(ctx context.Context) (held int, err error) {
	if err := p.runBatches(ctx, func() bool { return ctx.Err() != nil }); err != nil {
		return p.held.count(), err
	}
	return p.held.count(), ctx.Err()
}

// fail calls the test failpoint at step, if any.
func (p *Pipeline) fail(step string) {
	if p.failpoint != nil {
		p.failpoint(step)
	}
}
