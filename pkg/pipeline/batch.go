package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/store"
)

// BatchStats describes one batch.
type BatchStats struct {
	Claimed     int
	Delivered   int
	Quarantined int
	Held        int
	Bytes       int64
	Duration    time.Duration
	// Time spent in the batch-wide steps.
	Claim, Attempts, Check, Commit time.Duration
}

// batch is a claimed batch on its way through check and commit.
type batch struct {
	items []*item // locked until the batch is finished
	st    BatchStats
	start time.Time
	// checked is set when the items are checked (once done is closed) and
	// wait for their commit; a batch without it is finished (nothing
	// claimed, or the attempts could not be recorded and the items are
	// held).
	checked bool
	// tail is closed when no more than Workers items wait for a worker,
	// done when every item is checked (see startBatch).
	tail, done chan struct{}
}

// RunBatch claims one batch, checks it and commits it. It returns an error
// only when qscan cannot go on safely (the journal cannot be written);
// everything else holds the affected messages and is logged.
func (p *Pipeline) RunBatch(ctx context.Context) (BatchStats, error) {
	b := p.startBatch(ctx)
	<-b.done
	return p.commitBatch(ctx, b)
}

// runBatches runs batches until one claims nothing or stop says so.
// Batches overlap so that the engines are not left idle between them: the
// commit of a batch (fsyncs, mostly) runs while the next one is checked,
// and the next batch is claimed, and its checks started, as soon as no
// more messages of the current one wait for a worker than there are
// workers, so that the next batch's messages are ready (claimed, their
// attempts counted) when the current batch's last ones leave workers
// free. At most two batches are in memory: the next is claimed only after
// the commit before the current batch has ended. The items of a batch stay
// locked until its commit, so claims pass them by, and commits follow one
// another in batch order.
func (p *Pipeline) runBatches(ctx context.Context, stop func() bool) error {
	var committing chan error // the commit under way, if any
	waitCommit := func() error {
		if committing == nil {
			return nil
		}
		err := <-committing
		committing = nil
		return err
	}
	if stop() {
		return nil
	}
	cur := p.startBatch(ctx)
	for {
		<-cur.tail
		err := waitCommit()
		var next *batch
		if err == nil && cur.st.Claimed > 0 && !stop() {
			// cur still holds its items: the next batch does not try
			// to lock them.
			p.checking = make(map[string]bool, len(cur.items))
			for _, it := range cur.items {
				p.checking[it.entry.ID] = true
			}
			next = p.startBatch(ctx)
			p.checking = nil
		}
		<-cur.done
		if err != nil {
			unlockAll(cur.items)
			return err
		}
		if cur.st.Claimed == 0 {
			// The last commit may have spooled reports (the SMTP
			// filter's): they are the next batch.
			if p.spooled.Swap(false) && !stop() {
				cur = p.startBatch(ctx)
				continue
			}
			return nil
		}
		committing = make(chan error, 1)
		go func(b *batch) {
			_, err := p.commitBatch(ctx, b)
			committing <- err
		}(cur)
		if next == nil {
			return waitCommit()
		}
		cur = next
	}
}

// startBatch claims a batch and counts the attempts, then starts the
// checks in the background: b.tail is closed when at most Workers
// messages wait for a worker, b.done when all are checked. A batch that
// claimed nothing, or whose attempts could not be recorded (its items are
// then held), is done at once.
func (p *Pipeline) startBatch(ctx context.Context) *batch {
	start := time.Now()
	items := p.claim()
	b := &batch{items: items, start: start, st: BatchStats{Claimed: len(items), Claim: time.Since(start)},
		tail: make(chan struct{}), done: make(chan struct{})}
	finished := func() *batch {
		close(b.tail)
		close(b.done)
		return b
	}
	if len(items) == 0 {
		return finished()
	}
	p.obs.BatchStart(len(items))
	for _, it := range items {
		b.st.Bytes += it.entry.Size
	}
	t := time.Now()
	err := p.bumpAttempts(ctx, items)
	b.st.Attempts = time.Since(t)
	if err != nil {
		// Without a durable counter a poison message could crash us forever.
		p.log.WithError(err).Error("cannot record processing attempts; batch skipped")
		for _, it := range items {
			d := p.held.hold(it.entry.ID, p.now())
			p.logHeld(it, d, fmt.Errorf("record processing attempts: %w", err), logrus.ErrorLevel)
		}
		b.st.Held = len(items)
		return finished()
	}
	for _, it := range items {
		if p.opt.MaxAttempts > 0 && it.attempt > p.opt.MaxAttempts {
			it.verdict = message.VerdictPoison
			it.whole = fmt.Sprintf("message could not be processed in %d attempts", p.opt.MaxAttempts)
		}
	}
	b.checked = true
	go func() {
		t := time.Now()
		p.processAll(ctx, items, func() { close(b.tail) })
		b.st.Check = time.Since(t)
		close(b.done)
	}()
	return b
}

// commitBatch quarantines, commits and logs a checked batch, and unlocks
// its items in any case.
func (p *Pipeline) commitBatch(ctx context.Context, b *batch) (BatchStats, error) {
	defer func() {
		unlockAll(b.items)
		// Claims made while the batch was locked took its items for
		// busy; they are not.
		for _, it := range b.items {
			p.busy.clear(it.entry.ID)
		}
	}()
	if !b.checked {
		if b.st.Claimed > 0 {
			// Every batch begun is reported ended, held or not.
			p.obs.Batch(b.st.Claimed, time.Since(b.start), b.st.Claim, b.st.Attempts, 0)
		}
		return b.st, nil
	}
	items, st := b.items, b.st
	var out []*item
	var notices []notify.Event
	for _, it := range items {
		switch {
		case it.err != nil:
			p.holdItem(ctx, it)
			st.Held++
		case it.whole != "":
			// Committed with the batch: its entry is published and its
			// incoming copy released at the commit.
			if p.stageWhole(it) {
				out = append(out, it)
				if it.decision.NotifyPostmaster || it.verdict == message.VerdictPoison || it.decision.NotifyRecipient || it.decision.Bounce {
					notices = append(notices, p.notice(it, false, it.quarantineDir))
				}
			} else {
				st.Held++
			}
		case !dfUnchanged(it):
			// Rewritten since it was read: what would be linked out is
			// not what was checked. Checked again after the hold.
			p.holdItem(ctx, it)
			st.Held++
		case (len(it.decision.Replace) > 0 || it.decision.StoreSpam) && !p.stageParts(it):
			st.Held++
		default:
			out = append(out, it)
			if it.decision.NotifyPostmaster || it.decision.NotifyRecipient || it.decision.Bounce {
				notices = append(notices, p.notice(it, true, it.quarantineDir))
			}
		}
	}
	out = append(out, p.reportItems(notices)...)
	p.fail("staged")
	t := time.Now()
	err := p.commit(out)
	st.Commit = time.Since(t)
	if err != nil {
		// A full disk is not the messages' fault: their attempts are
		// taken back, also when qscan stops (the journal failed) and the
		// messages are checked again at the next start.
		p.undoAttempts(ctx, out)
		if errors.Is(err, errJournal) {
			return st, err
		}
		p.log.WithError(err).Error("commit failed; messages kept in the incoming queue")
		// The commit removed the staged quarantine entries.
		for _, it := range out {
			if it.generated {
				continue
			}
			d := p.held.hold(it.entry.ID, p.now())
			p.logHeld(it, d, fmt.Errorf("commit: %w", err), logrus.ErrorLevel)
			st.Held++
		}
	} else {
		var recs []store.LogRecord // the message log's, written once for the batch
		for _, it := range out {
			switch {
			case it.generated:
				p.logReport(it)
			case it.whole != "":
				st.Quarantined++
				recs = append(recs, p.logRecord(it, message.OutcomeQuarantined))
				p.quarantinedWhole(it)
			case it.sent != nil && it.sent.held != nil:
				// Re-injection: the downstream did not take it (for
				// every recipient); kept in the spool.
				st.Held++
				p.logHeld(it, it.sent.retry, fmt.Errorf("re-inject: %w", it.sent.held), logrus.WarnLevel)
			default:
				st.Delivered++
				action := message.OutcomeDelivered
				if len(it.decision.Replace) > 0 {
					action = message.OutcomeCleaned
				}
				if it.quarantineStaged != "" {
					p.obs.Quarantined("parts")
				}
				recs = append(recs, p.logRecord(it, action))
				p.messageLog(it, action).Write(p.log, logrus.InfoLevel)
				p.observeMessage(it, action)
			}
		}
		p.writeLog(recs)
	}
	st.Duration = time.Since(b.start)
	p.obs.Batch(st.Claimed, st.Duration, st.Claim, st.Attempts, st.Commit)
	p.obs.Held(p.held.count())
	p.log.WithFields(logrus.Fields{
		"messages": st.Claimed, "bytes": st.Bytes, "delivered": st.Delivered,
		"quarantined": st.Quarantined, "held": st.Held, "ms": st.Duration.Milliseconds(),
		"ms_claim": st.Claim.Milliseconds(), "ms_attempts": st.Attempts.Milliseconds(),
		"ms_check": st.Check.Milliseconds(), "ms_commit": st.Commit.Milliseconds(),
	}).Info("batch done")
	return st, nil
}

// holdItem leaves a message whose checks could not be done in the incoming
// queue for a later retry. An engine failure is not the message's fault,
// so it does not count as an attempt; a panic, a timeout or an envelope
// that cannot be written out (errOwnFault) does.
func (p *Pipeline) holdItem(ctx context.Context, it *item) {
	notOwnFault := !errors.Is(it.err, errTimeout) && !isPanic(it.err) && !errors.Is(it.err, errOwnFault)
	if notOwnFault && it.epoch != p.held.epochNow() {
		// An engine came back (RetryHeld) while this message was checked:
		// retry it at once, like the messages held before.
		p.held.release(it.entry.ID)
		p.undoAttempt(ctx, it)
		p.logHeld(it, 0, it.err, logrus.WarnLevel) // retry=now: the engine is back
		return
	}
	d := p.held.holdFor(it.entry.ID, p.now(), notOwnFault)
	if notOwnFault {
		p.undoAttempt(ctx, it)
	}
	p.logHeld(it, d, it.err, logrus.WarnLevel)
}

// dfUnchanged reports whether the incoming df that a delivered message
// links out unchanged still holds what was read (its stamp at the claim);
// if not, it sets it.err. A rebuilt body is written from the checked
// bytes and needs no such check.
func dfUnchanged(it *item) bool {
	if it.outBody != nil || it.lock == nil {
		return true
	}
	df, _ := it.lock.Body()
	if df == nil {
		return true // the body is in the control file, written out from what was read
	}
	st, err := safeio.StampOf(df)
	if err == nil && st == it.dfStamp {
		return true
	}
	it.err = fmt.Errorf("df%s: %w", it.entry.ID, safeio.ErrChanged)
	return false
}

// undoAttempt takes back the attempt of a message held for a reason that
// is not its own fault (an engine down, a full disk), so that it is never
// taken for a poison message.
func (p *Pipeline) undoAttempt(ctx context.Context, it *item) {
	if p.attempts == nil {
		return
	}
	if err := p.attempts.UndoAttempt(ctx, it.entry.ID); err != nil {
		p.undoLater.add(it.entry.ID, 1)
		p.log.WithError(err).Warn("cannot undo attempt; taken back before the next attempts are counted")
	}
}

// undoAttempts takes back the attempts of the messages of a batch whose
// commit failed, but a poison message's: it is quarantined again at the
// next try.
func (p *Pipeline) undoAttempts(ctx context.Context, items []*item) {
	for _, it := range items {
		if !it.generated && it.verdict != message.VerdictPoison {
			p.undoAttempt(ctx, it)
		}
	}
}

// messageLog is the log line of an item's outcome (see MessageLog), with
// what is known of the message: the envelope from the checked message or
// else from the qf, the verdict, the findings and the stages' times.
func (p *Pipeline) messageLog(it *item, action message.Outcome) MessageLog {
	l := MessageLog{ID: it.entry.ID, Size: it.entry.Size, Verdict: it.verdict, Action: action,
		Quarantine: it.quarantineDir, Reason: it.decision.Reason, Attempt: it.attempt,
		MS: time.Since(it.start).Milliseconds(), StageMS: it.stageMS}
	if it.msg != nil {
		l.From, l.To = it.msg.Envelope.Sender, it.msg.Envelope.Recipients
	} else if it.qf != nil {
		env := it.qf.Envelope()
		l.From, l.To = env.Sender, env.Recipients
	}
	l.Virus, l.Spam = virusNames(it.msg), spamField(it.msg)
	if p.opt.Reinject != nil {
		if it.msg != nil && it.msg.Envelope.ClientIP.IsValid() {
			l.Client = it.msg.Envelope.ClientIP.String()
		}
		if it.sent != nil {
			l.Downstream = it.sent.reply
		}
	}
	return l
}

// logHeld logs a message left in the incoming queue, to be retried after
// d (0: at once).
func (p *Pipeline) logHeld(it *item, d time.Duration, err error, level logrus.Level) {
	l := p.messageLog(it, message.OutcomeHeld)
	l.Quarantine, l.Err, l.Retry = "", err, "now"
	if d > 0 {
		l.Retry = d.Round(time.Second).String()
	}
	l.Write(p.log, level)
}

// virusNames lists the viruses found, comma separated.
func virusNames(m *message.Message) string {
	if m == nil {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	for _, r := range m.Reports {
		if r.Kind == message.KindVirus && !seen[r.Name] {
			seen[r.Name] = true
			names = append(names, strings.ReplaceAll(r.Name, " ", "_"))
		}
	}
	return strings.Join(names, ",")
}

// spamField is the log's spam field: "no(1.2)", "yes(7.3)",
// "high(1001.5)", "unchecked".
func spamField(m *message.Message) string {
	if m == nil || m.Spam == nil {
		return ""
	}
	s := m.Spam
	if s.Unchecked != "" && s.Score == 0 && len(s.Engines) == 0 {
		return "unchecked"
	}
	word := map[message.SpamLevel]string{message.SpamHam: "no", message.SpamSpam: "yes", message.SpamHigh: "high"}[s.Level]
	if word == "" {
		word = string(s.Level)
	}
	return fmt.Sprintf("%s(%.1f)", word, s.Score)
}
