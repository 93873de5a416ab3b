package pipeline

import (
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
)

// Notifier writes the reports qscan mails.
type Notifier interface {
	// Postmaster returns the reports about a batch's notices: none, or
	// one per postmaster address the notices go to.
	Postmaster(ns []notify.Event) ([]notify.Queued, error)
	// Sender returns the notice to the sender of one stopped message, or
	// nil when none is due (policy, null sender, lists, bulk mail).
	Sender(n notify.Event) (*notify.Queued, error)
	// Spam returns the spam notices of a message: to its recipients
	// (n.NotifyRecipients), to its sender (n.Bounce).
	Spam(n notify.Event) ([]notify.Queued, error)
}

var _ Notifier = (*notify.Notifier)(nil)

// notice builds the notice of a message that a check stopped.
func (p *Pipeline) notice(it *item, delivered bool, dir string) notify.Event {
	n := notify.Event{ID: it.entry.ID, Verdict: it.verdict, QuarantineDir: dir, Delivered: delivered}
	n.Received = it.entry.ModTime
	if it.qf != nil {
		n.Envelope = it.qf.Envelope()
		n.Header = it.qf.HeaderBlock()
		n.Subject, _ = it.qf.Header("Subject")
		n.MessageID, _ = it.qf.Header("Message-ID")
	}
	if it.msg != nil {
		// The message as it came in: the decision has edited it.qf since
		// (the spam action "forward" added its addresses as recipients, a
		// subject tag). A notice to the sender or the recipients must not
		// show a forward address (a spamtrap, an archive).
		n.Envelope, n.Header = it.msg.Envelope, it.msg.Header
		n.Subject, n.MessageID = headerValue(it.msg.Header, "Subject"), headerValue(it.msg.Header, "Message-ID")
	}
	d := it.decision
	n.NotifyRecipients, n.Bounce = d.NotifyRecipient, d.Bounce
	n.Postmaster = d.NotifyPostmaster || it.verdict == message.VerdictPoison
	if it.msg != nil {
		n.Spam = it.msg.Spam
		n.Reports = it.msg.Reports
		n.Parts = make([]message.Part, len(it.msg.Parts))
		for i, pt := range it.msg.Parts {
			pt.Data = nil
			n.Parts[i] = pt
		}
	}
	return n
}

// reportItems turns the batch's notices into outgoing messages of their
// own, committed with the batch (same journal, same durability).
func (p *Pipeline) reportItems(ns []notify.Event) []*item {
	if p.notifier == nil || len(ns) == 0 {
		return nil
	}
	var pm []notify.Event
	for _, n := range ns {
		if n.Postmaster {
			pm = append(pm, n)
		}
	}
	var mails []notify.Queued
	if len(pm) > 0 {
		var err error
		mails, err = p.notifier.Postmaster(pm)
		if err != nil {
			p.log.WithError(err).Error("cannot write the postmaster report")
		}
	}
	for _, n := range ns {
		if n.NotifyRecipients || n.Bounce {
			ms, err := p.notifier.Spam(n)
			if err != nil {
				p.log.WithError(err).WithField("id", n.ID).Warn("cannot write the spam notice")
			}
			mails = append(mails, ms...)
		}
		if !n.Postmaster {
			continue
		}
		m, err := p.notifier.Sender(n)
		if err != nil {
			p.log.WithError(err).WithField("id", n.ID).Warn("cannot write the sender notice")
		}
		if m != nil {
			mails = append(mails, *m)
		}
	}
	var items []*item
	for _, m := range mails {
		if len(m.Recipients) == 0 {
			continue
		}
		qf, err := p.mta.New(m.Recipients, m.Header, p.now(), m.Body)
		if err != nil {
			p.log.WithError(err).Error("cannot queue the postmaster report")
			continue
		}
		items = append(items, &item{entry: Entry{ID: p.mta.NewID()}, outQf: qf, outBody: m.Body, start: time.Now(), verdict: message.VerdictReport, generated: true, mail: &m})
	}
	return items
}

// logReport writes the line of a mail qscan sent itself, once it is
// committed to the outgoing queue: its new queue ID, its kind, its
// recipients and the messages it is about.
func (p *Pipeline) logReport(it *item) {
	m := it.mail
	if it.dropped {
		return
	}
	MessageLog{ID: it.outID, To: m.Recipients, Size: int64(len(it.outBody)), Verdict: message.VerdictReport,
		Action: message.OutcomeQueued, Kind: m.Kind, About: m.About}.Write(p.log, logrus.InfoLevel)
}
