package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/spool"
)

// Re-injection: with Options.Reinject set (the SMTP content filter, whose
// incoming queue is its spool, MTA Spool) a batch has no outgoing queue.
// Each checked message is sent back to the MTA over SMTP, several at once,
// and the journal records the downstream's acceptance:
//
//	prepare  (fsynced) the batch's messages, as in journal.go; a message
//	         quarantined whole is settled by it (its staged entry is
//	         published and its spool entry released, now or by recovery)
//	sent     (fsynced, grouped: concurrent senders share fsyncs) message
//	         I was accepted downstream; Left are the recipients it still
//	         has (4xx to RCPT, or 5xx kept with on_reject = hold)
//	done     every settled message was released
//
// A message is released from the spool only once its sent record is
// durable, and recovery releases a message with a sent record without
// sending it again. One duplicate window is left, and SMTP leaves it to
// every MTA: a crash (or a lost connection) after the downstream's 250 and
// before the sent record is durable. Then the message is still in the
// spool without a record, is checked and sent again, and the recipients
// get it twice. Nothing is ever lost.
//
// A 4xx (reinject.TempError, or every recipient deferred) holds that
// message only, with the holds' backoff, and is not the message's fault
// (its attempt is taken back). A 5xx for some recipients produces a DSN to
// the sender (reinject.DSN), sent the same way, or with OnReject "hold"
// keeps the message for those recipients. Generated messages (reports,
// notices) are staged in the spool before the prepare record, published
// after the sends (only those about a message that was settled) and sent
// with a later batch (stageGenerated, publishGenerated); DSNs are sent at
// once, and spooled when the downstream cannot take them now.

// Sender re-injects one message (a *reinject.Client).
type Sender interface {
	Send(ctx context.Context, m reinject.Message) (*reinject.Result, error)
}

// sendOutcome is what re-injection made of an item.
type sendOutcome struct {
	held  error    // not (wholly) delivered: kept in the spool, retried
	left  []string // recipients still to deliver to (held is then set)
	reply string   // the downstream's reply, for the log
	retry time.Duration
}

// sendParallel is how many messages are sent at once.
func (p *Pipeline) sendParallel() int {
	if p.opt.ReinjectParallel > 0 {
		return p.opt.ReinjectParallel
	}
	return 4
}

// commitSend is commit for re-injection: see the comment above.
func (p *Pipeline) commitSend(items []*item) error {
	batch := p.now().UnixNano()
	es := make([]entry, len(items))
	for i, it := range items {
		es[i] = entry{In: it.entry.Files, InInode: it.inode, QDir: it.quarantineStaged, Whole: it.whole != "", OutID: it.entry.ID}
	}
	if err := p.stageGenerated(items, es); err != nil {
		p.undo(es)
		return err
	}
	if err := p.journal.append(record{Batch: batch, Op: opPrepare, Entries: es, Send: true}, true); err != nil {
		p.undo(es)
		return fmt.Errorf("%w: %v", errJournal, err)
	}
	p.fail("prepared")
	settled := make([]bool, len(items))
	var mu sync.Mutex
	var jerr error
	var crashed any // a panic in a sender, raised again here
	sem := make(chan struct{}, p.sendParallel())
	var wg sync.WaitGroup
	for i, it := range items {
		if it.whole != "" || it.generated {
			settled[i] = true
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					crashed = r
					mu.Unlock()
				}
			}()
			ok, err := p.sendOne(batch, i, it)
			mu.Lock()
			settled[i] = ok
			if err != nil && jerr == nil {
				jerr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if crashed != nil {
		panic(crashed)
	}
	if jerr != nil {
		// The messages with a record are released by recovery at the
		// next start; the others are checked and sent again.
		return jerr
	}
	p.fail("sent")
	dropped, err := p.publishGenerated(es, func(i int) bool { return settled[i] })
	if err != nil {
		return err
	}
	p.releaseSent(items, es, settled)
	if err := p.journal.append(record{Batch: batch, Op: opDone}, false); err != nil {
		return fmt.Errorf("%w: %v", errJournal, err)
	}
	var ids []string
	for i, it := range items {
		it.outID = es[i].OutID
		switch {
		case it.generated:
			it.dropped = dropped[i]
		case it.sent != nil && it.sent.held != nil:
			// The downstream's fault, not the message's.
			it.sent.retry = p.held.hold(it.entry.ID, p.now())
			p.undoAttempt(context.Background(), it)
		default:
			ids = append(ids, it.entry.ID)
			p.held.release(it.entry.ID)
		}
	}
	if p.attempts != nil && len(ids) > 0 {
		if err := p.attempts.ClearAttempts(context.Background(), ids); err != nil {
			p.log.WithError(err).Warn("cannot clear processing attempts")
		}
	}
	return nil
}

// releaseSent publishes the quarantine entries of the settled messages
// (discarding those of the others, which are checked again) and releases
// the spool entries of those delivered to every recipient.
func (p *Pipeline) releaseSent(items []*item, es []entry, settled []bool) {
	dirs := map[string]bool{}
	for i, e := range es {
		it := items[i]
		if e.QDir != "" {
			if !settled[i] {
				if err := p.quarantine.Discard(e.QDir); err != nil {
					p.log.WithError(err).Warn("cannot remove the staged quarantine entry of a message kept in the spool")
				}
				it.quarantineDir = ""
				continue
			}
			dir, err := p.quarantine.Publish(e.QDir)
			if err != nil {
				p.log.WithError(err).WithField("quarantine", e.QDir).Error("cannot publish a quarantine entry")
				if e.Whole {
					continue // its only copy is the spool entry: checked again later
				}
			} else {
				it.quarantineDir = dir
			}
		}
		if !settled[i] || (it.sent != nil && it.sent.left != nil) {
			continue
		}
		if p.releaseIncoming(e) {
			for _, f := range e.In {
				dirs[filepath.Dir(f)] = true
			}
		}
	}
	for d := range dirs {
		if err := safeio.SyncDir(d); err != nil {
			p.log.WithError(err).Error("cannot fsync the spool")
		}
	}
}

// sendOne sends one checked message and, when the downstream took it,
// records that durably (a sent record). It reports whether the message is
// settled (recorded: its spool entry may go, or be cut down to the
// recipients left). The error is the journal's: the daemon must stop.
func (p *Pipeline) sendOne(batch int64, i int, it *item) (bool, error) {
	ctx := context.Background()
	out := &sendOutcome{}
	it.sent = out
	sc, ok := it.outQf.(*SpoolControl)
	if !ok {
		out.held = fmt.Errorf("re-inject: control of %T", it.outQf)
		return false, nil
	}
	data := outData(it)
	res, err := p.opt.Reinject.Send(ctx, reinject.Message{Env: sc.Env, Data: bytes.NewReader(data), Size: smtpSize(data)})
	var rejected []reinject.RcptResult
	accepted := 0
	var pe *reinject.PermError
	switch {
	case err == nil:
		accepted, rejected = len(res.Accepted), res.Rejected
		for _, d := range res.Deferred {
			out.left = append(out.left, d.Recipient.Addr)
		}
		out.reply = res.Data.String()
	case errors.As(err, &pe):
		rejected, out.reply = pe.Rejected, pe.Reply.String()
	default:
		out.held = err
		return false, nil
	}
	if len(rejected) > 0 {
		keep := p.opt.OnReject == "hold"
		if !keep {
			if err := p.bounce(ctx, it, sc.Env, rejected, data); err != nil {
				p.log.WithError(err).WithField("id", it.entry.ID).Error("cannot send nor spool the DSN: the refused recipients are kept")
				keep = true
			}
		}
		if keep {
			for _, r := range rejected {
				out.left = append(out.left, r.Recipient.Addr)
			}
			if accepted == 0 {
				out.held = fmt.Errorf("refused downstream for every recipient: %s", rejected[0].Reply)
				return false, nil
			}
		}
	}
	p.fail("accepted")
	if err := p.journal.appendGroup(record{Batch: batch, Op: opSent, I: i, Left: out.left}); err != nil {
		return false, fmt.Errorf("%w: %v", errJournal, err)
	}
	p.fail("recorded")
	if out.left != nil {
		out.held = fmt.Errorf("kept for %d recipients: %s", len(out.left), strings.Join(out.left, ","))
		if c, ok := it.lock.(*spoolClaim); ok {
			if err := c.replace(keepRecipients(sc.Env, out.left)); err != nil {
				return false, fmt.Errorf("%w: spool entry %s sent to some recipients, cannot keep only the others: %v", errJournal, it.entry.ID, err)
			}
		}
	}
	return true, nil
}

// outData is the checked message as it goes out: the edited header, the
// empty line, and the rebuilt body or else the body that was checked.
func outData(it *item) []byte {
	hdr := it.outQf.HeaderBlock()
	body := it.outBody
	if body == nil {
		body = readLocked(it)
	}
	b := make([]byte, 0, len(hdr)+1+len(body))
	b = append(b, hdr...)
	b = append(b, '\n')
	return append(b, body...)
}

// smtpSize is the SIZE of data as SMTP carries it: each LF a CRLF.
func smtpSize(data []byte) int64 {
	return int64(len(data) + bytes.Count(data, []byte("\n")) - bytes.Count(data, []byte("\r\n")))
}

// bounce sends the DSN about the rejected recipients to the sender (none
// is due for the null sender or NOTIFY=NEVER); one that cannot be sent
// now is spooled.
func (p *Pipeline) bounce(ctx context.Context, it *item, env *spool.Envelope, rejected []reinject.RcptResult, data []byte) error {
	o := p.opt.DSN
	o.QueueID = it.entry.ID
	dsn, err := reinject.DSN(o, env, rejected, bytes.NewReader(data), p.now())
	if err != nil {
		return err
	}
	log := p.log.WithField("id", it.entry.ID)
	if dsn == nil {
		log.Infof("refused downstream for %d recipients (%s); no DSN due", len(rejected), rejected[0].Reply)
		return nil
	}
	denv := reinject.DSNEnvelope(env, p.now())
	res, err := p.opt.Reinject.Send(ctx, reinject.Message{Env: denv, Data: bytes.NewReader(dsn), Size: smtpSize(dsn)})
	if err != nil && reinject.IsTemporary(err) {
		id, _, serr := p.spool().Publish(idSource{p.mta}, genEnvelope(denv), bytes.NewReader(dsn))
		if serr != nil {
			return fmt.Errorf("DSN not sent (%v) nor spooled: %w", err, serr)
		}
		log.WithField("dsn", id).Warnf("refused downstream for %d recipients (%s); DSN to <%s> spooled as %s (%v)", len(rejected), rejected[0].Reply, env.Sender, id, err)
		return nil
	}
	if err != nil || res == nil || len(res.Accepted) == 0 {
		log.WithError(err).Errorf("refused downstream for %d recipients (%s); the DSN to <%s> was refused too", len(rejected), rejected[0].Reply, env.Sender)
		return nil
	}
	log.Infof("refused downstream for %d recipients (%s); DSN sent to <%s>", len(rejected), rejected[0].Reply, env.Sender)
	return nil
}

// recoverSend finishes a re-injected batch a crash interrupted: the
// messages quarantined whole or recorded sent are settled (their staged
// entries published, their spool entries released or cut down to the
// recipients left) without being sent again; the others stay in the
// spool, their staged entries removed, and are checked and sent again.
func (p *Pipeline) recoverSend(b pendingBatch) {
	n := 0
	if _, err := p.publishGenerated(b.entries, func(i int) bool {
		_, sent := b.sent[i]
		return sent || b.entries[i].Whole
	}); err != nil {
		p.log.WithError(err).Error("recovery: cannot publish the reports of an interrupted batch")
	}
	for i, e := range b.entries {
		left, sent := b.sent[i]
		if len(e.In) == 0 {
			continue // a report, published above
		}
		if !e.Whole && !sent {
			if e.QDir != "" {
				p.quarantine.Discard(e.QDir)
			}
			continue
		}
		n++
		if e.QDir != "" {
			if _, err := p.quarantine.Publish(e.QDir); err != nil {
				p.log.WithError(err).Error("recovery: cannot publish a quarantine entry")
				if e.Whole {
					continue
				}
			}
		}
		if left != nil {
			if err := keepOnly(e, left); err != nil {
				p.log.WithError(err).WithField("id", e.OutID).Error("recovery: cannot cut a partly sent spool entry down to the recipients left")
			}
			continue
		}
		p.releaseIncoming(e)
	}
	for _, d := range outDirsIn(b.entries) {
		safeio.SyncDir(d)
	}
	p.log.WithFields(logrus.Fields{"batch": b.id, "settled": n, "again": len(b.entries) - n}).
		Warn("recovery: re-injected batch interrupted; messages recorded sent are released without being sent again")
}

// keepOnly cuts the spool entry of e down to the recipients left.
func keepOnly(e entry, left []string) error {
	if len(e.In) == 0 {
		return nil
	}
	id := strings.TrimPrefix(filepath.Base(e.In[0]), "ef")
	lk, err := lockSpool(id, e.In)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	env, err := lk.Envelope(spool.Limits{})
	if err != nil {
		return err
	}
	n := keepRecipients(env, left)
	if len(n.Recipients) == len(env.Recipients) {
		return nil
	}
	if len(n.Recipients) == 0 {
		for _, a := range left {
			n.Recipients = append(n.Recipients, spool.Recipient{Addr: a})
		}
	}
	return spool.Spool{Dir: filepath.Dir(e.In[0])}.ReplaceEnvelope(lk, id, n)
}

// outDirsIn are the directories of the incoming files of es.
func outDirsIn(es []entry) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, e := range es {
		for _, f := range e.In {
			if d := filepath.Dir(f); !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}
