package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// quarantineWhole moves a message the checks stopped (or that failed too
// often) into the quarantine: the quarantine copy is durable before the
// incoming files are removed.
func (p *Pipeline) quarantineWhole(it *item) bool {
	df := readLocked(it)
	w := Quarantined{Whole: true, ID: it.entry.ID, Qf: it.qfRaw, Df: df, Reason: it.whole, Time: p.now()}
	if it.qf != nil {
		w.Header = it.qf.HeaderBlock()
		w.Subject, _ = it.qf.Header("Subject")
	}
	if it.msg != nil {
		for _, r := range it.msg.Reports {
			w.Reports = append(w.Reports, r.Text)
		}
	}
	if it.qf != nil {
		w.Envelope = envelopeOf(it.qf)
	}
	dir, err := p.quarantine.Store(w)
	if err != nil {
		d := p.held.hold(it.entry.ID, p.now())
		if it.verdict != "poison" {
			p.undoAttempt(context.Background(), it)
		}
		p.logHeld(it, d, fmt.Errorf("quarantine: %w", err), logrus.ErrorLevel)
		return false
	}
	it.quarantineDir = dir
	p.releaseItem(it)
	l := p.messageLog(it, ActionQuarantined)
	l.Reason = it.whole
	l.Write(p.log, logrus.WarnLevel)
	it.stageMS = nil
	kind := "whole"
	if it.verdict == "poison" {
		kind = "poison"
	}
	p.obs.Quarantined(kind)
	p.observeMessage(it, "quarantined")
	return true
}

// quarantineParts keeps the original of a message delivered cleaned,
// with the parts taken out of it, before the cleaned copy is committed.
func (p *Pipeline) quarantineParts(it *item) bool {
	q := Quarantined{ID: it.entry.ID, Qf: it.qfRaw, Df: readLocked(it), Reason: it.decision.Reason, Time: p.now(),
		Envelope: it.msg.Envelope, Header: it.msg.Header}
	q.Subject, _ = it.qf.Header("Subject")
	for _, r := range it.decision.Replace {
		qp := QuarantinedPart{Report: r.Report.Text}
		if r.Part >= 0 && r.Part < len(it.msg.Parts) {
			qp.Filename, qp.Data = it.msg.Parts[r.Part].Filename, it.msg.Parts[r.Part].Data
		}
		q.Parts = append(q.Parts, qp)
	}
	for _, r := range it.msg.Reports {
		q.Reports = append(q.Reports, r.Text)
	}
	dir, err := p.quarantine.Store(q)
	if err != nil {
		d := p.held.hold(it.entry.ID, p.now())
		p.undoAttempt(context.Background(), it)
		p.logHeld(it, d, fmt.Errorf("quarantine the removed parts: %w", err), logrus.ErrorLevel)
		return false
	}
	it.quarantineDir = dir
	p.obs.Quarantined("parts")
	return true
}

// setAsideLocked puts a corrupt claimed message into the quarantine.
func (p *Pipeline) setAsideLocked(it *item, reason string) {
	w := Quarantined{Whole: true, ID: it.entry.ID, Qf: it.qfRaw, Df: readLocked(it), Reason: reason, Time: p.now()}
	if it.qfRaw == nil {
		w.Qf, _ = io.ReadAll(io.LimitReader(it.lock.Qf, 64<<20))
	}
	p.storeAside(w, it.entry)
	it.lock.Unlock()
	it.lock = nil
}

// setAside handles a message whose files cannot be locked as a pair (its
// df is missing).
func (p *Pipeline) setAside(e sendmail.Entry, _ *item, reason string) {
	qf, _ := readHead(e.QfPath, 64<<20)
	p.storeAside(Quarantined{Whole: true, ID: e.ID, Qf: qf, Reason: reason, Time: p.now()}, e)
}

func (p *Pipeline) storeAside(w Quarantined, e sendmail.Entry) {
	l := MessageLog{ID: e.ID, Size: e.Size, Verdict: "corrupt", Action: ActionSetAside, Reason: w.Reason}
	if qf, err := sendmail.ParseQf(bytes.NewReader(w.Qf), p.qfLimits()); err == nil {
		env := envelopeOf(qf) // the qf may be fine and its df missing
		l.From, l.To = env.Sender, env.Recipients
	}
	dir, err := p.quarantine.Store(w)
	if err != nil {
		d := p.held.hold(e.ID, p.now())
		l.Action, l.Retry, l.Err = ActionHeld, d.Round(time.Second).String(), fmt.Errorf("set aside: %w", err)
		l.Write(p.log, logrus.ErrorLevel)
		return
	}
	os.Remove(e.QfPath)
	os.Remove(e.DfPath)
	safeio.SyncDir(filepath.Dir(e.QfPath))
	safeio.SyncDir(filepath.Dir(e.DfPath))
	l.Quarantine = dir
	l.Write(p.log, logrus.ErrorLevel)
	p.obs.Quarantined("corrupt")
}

// releaseItem removes the incoming files of a message that is done with.
func (p *Pipeline) releaseItem(it *item) {
	p.releaseIncoming(entry{InQf: it.entry.QfPath, InDf: it.entry.DfPath, InInode: it.inode})
	safeio.SyncDir(filepath.Dir(it.entry.QfPath))
	if d := filepath.Dir(it.entry.DfPath); d != filepath.Dir(it.entry.QfPath) {
		safeio.SyncDir(d)
	}
	p.held.release(it.entry.ID)
}

// readLocked returns the message's df: the body the checks read, or else
// read now through the locked descriptor.
func readLocked(it *item) []byte {
	if it.msg != nil && it.msg.Body != nil {
		return it.msg.Body
	}
	if it.lock == nil || it.lock.Df == nil {
		return nil
	}
	if _, err := it.lock.Df.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(it.lock.Df)
	return b
}

func readHead(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}
