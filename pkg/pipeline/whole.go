package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/store"
)

// stageWhole stages the quarantine entry of a message the checks stopped
// (or that failed too often). The batch commit publishes it and only then
// releases the incoming files (see commit.go): the quarantine copy is
// durable before the incoming files go, and a crash before the commit
// leaves no entry, only a staged one that recovery removes.
func (p *Pipeline) stageWhole(it *item) bool {
	df := quarantinedData(it)
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
		w.Envelope = it.qf.Envelope()
	}
	staged, dir, err := p.quarantine.Stage(w)
	if err != nil {
		d := p.held.hold(it.entry.ID, p.now())
		if it.verdict != message.VerdictPoison {
			p.undoAttempt(context.Background(), it)
		}
		p.logHeld(it, d, fmt.Errorf("quarantine: %w", err), logrus.ErrorLevel)
		return false
	}
	it.quarantineStaged, it.quarantineDir = staged, dir
	return true
}

// quarantinedWhole logs and counts a message whose quarantine entry was
// committed.
func (p *Pipeline) quarantinedWhole(it *item) {
	l := p.messageLog(it, message.OutcomeQuarantined)
	l.Reason = it.whole
	l.Write(p.log, logrus.WarnLevel)
	it.stageMS = nil
	kind := "whole"
	if it.verdict == message.VerdictPoison {
		kind = "poison"
	}
	p.obs.Quarantined(kind)
	p.observeMessage(it, message.OutcomeQuarantined)
}

// stageParts stages the quarantine entry of a message delivered cleaned:
// its original and the parts taken out of it. The batch commit publishes
// it with the cleaned copy.
func (p *Pipeline) stageParts(it *item) bool {
	q := Quarantined{ID: it.entry.ID, Qf: it.qfRaw, Df: quarantinedData(it), Reason: it.decision.Reason, Time: p.now(),
		Envelope: it.msg.Envelope, Header: it.msg.Header}
	q.Subject = headerValue(it.msg.Header, "Subject") // the original, not the tagged one
	q.Parts = removedParts(it.msg, it.decision.Replace)
	for _, r := range it.msg.Reports {
		q.Reports = append(q.Reports, r.Text)
	}
	staged, dir, err := p.quarantine.Stage(q)
	if err != nil {
		d := p.held.hold(it.entry.ID, p.now())
		p.undoAttempt(context.Background(), it)
		p.logHeld(it, d, fmt.Errorf("quarantine the removed parts: %w", err), logrus.ErrorLevel)
		return false
	}
	it.quarantineStaged, it.quarantineDir = staged, dir
	return true
}

// removedParts lists what a cleaned message loses, each once: the MIME
// leaf that is cut out, with every report about it or about what it holds
// (an archive is kept as the archive, not once more for each reported
// member). Replacements of the whole body (Part -1) make one part without
// data: the original is in the entry already.
func removedParts(m *message.Message, rs []message.Replacement) []QuarantinedPart {
	var out []QuarantinedPart
	at := map[int]int{} // MIME leaf (-1: the whole body) -> index in out
	for _, r := range rs {
		leaf := -1
		if r.Part >= 0 && r.Part < len(m.Parts) {
			leaf = leafOf(m, r.Part)
		}
		if i, ok := at[leaf]; ok {
			if !slices.Contains(strings.Split(out[i].Report, "; "), r.Report.Text) {
				out[i].Report += "; " + r.Report.Text
			}
			continue
		}
		qp := QuarantinedPart{Report: r.Report.Text}
		if leaf >= 0 {
			qp.Filename, qp.Data = m.Parts[leaf].Filename, m.Parts[leaf].Data
		}
		at[leaf] = len(out)
		out = append(out, qp)
	}
	return out
}

// leafOf returns the MIME leaf part i belongs to: i itself, or the
// outermost archive it is a member of.
func leafOf(m *message.Message, i int) int {
	for n := 0; n < len(m.Parts); n++ {
		parent := m.Parts[i].Parent
		if parent < 0 || parent >= len(m.Parts) || parent == i {
			break
		}
		i = parent
	}
	return i
}

// setAsideLocked puts a corrupt claimed message into the quarantine.
func (p *Pipeline) setAsideLocked(it *item, reason string) {
	w := Quarantined{Whole: true, ID: it.entry.ID, Qf: it.qfRaw, Df: quarantinedData(it), Reason: reason, Time: p.now()}
	if it.qfRaw == nil {
		w.Qf, _ = readControl(it.lock, 64<<20)
	}
	p.storeAside(w, it.entry)
	it.lock.Unlock()
	it.lock = nil
}

// setAside handles a message whose files cannot be locked as a pair (its
// df is missing).
func (p *Pipeline) setAside(e Entry, _ *item, reason string) {
	qf, _ := readHead(e.control(), 64<<20)
	p.storeAside(Quarantined{Whole: true, ID: e.ID, Qf: qf, Reason: reason, Time: p.now()}, e)
}

func (p *Pipeline) storeAside(w Quarantined, e Entry) {
	l := MessageLog{ID: e.ID, Size: e.Size, Verdict: message.VerdictCorrupt, Action: message.OutcomeSetAside, Reason: w.Reason}
	if qf, err := p.mta.Parse(w.Qf); err == nil {
		env := qf.Envelope() // the control file may be fine and the body missing
		l.From, l.To = env.Sender, env.Recipients
	}
	dir, err := p.storeNow(w)
	if err != nil {
		d := p.held.hold(e.ID, p.now())
		l.Action, l.Retry, l.Err = message.OutcomeHeld, d.Round(time.Second).String(), fmt.Errorf("set aside: %w", err)
		l.Write(p.log, logrus.ErrorLevel)
		return
	}
	removeAll(e.Files)
	l.Quarantine = dir
	l.Write(p.log, logrus.ErrorLevel)
	p.writeLog([]store.LogRecord{recordOf(l, p.now(), p.opt.Host)}) // rare: one row on its own
	p.obs.Quarantined("corrupt")
}

// storeNow stages and publishes an entry at once, for a message that
// leaves its queue right after (a corrupt one set aside). A crash between
// the two does not make a second entry: Publish finds the first one, which
// holds the same queue files.
func (p *Pipeline) storeNow(w Quarantined) (string, error) {
	staged, _, err := p.quarantine.Stage(w)
	if err != nil {
		return "", err
	}
	return p.quarantine.Publish(staged)
}

// quarantinedData is what the quarantine keeps as a message's df: its
// body, or for the SMTP filter's spool the whole message (header and body:
// the envelope, kept as the qf, has no header), as received.
func quarantinedData(it *item) []byte {
	if c, ok := it.lock.(*spoolClaim); ok {
		b, _ := c.message()
		return b
	}
	return readLocked(it)
}

// readLocked returns the message's body: the one the checks read, or else
// read now from the control file or through the locked descriptor.
func readLocked(it *item) []byte {
	if it.msg != nil && it.msg.Body != nil {
		return it.msg.Body
	}
	if in, ok := it.qf.(InlineBody); ok {
		return in.Body()
	}
	if it.lock == nil {
		return nil
	}
	df, off := it.lock.Body()
	if df == nil {
		return nil
	}
	if _, err := df.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(df)
	return b
}

// removeAll removes files in order and fsyncs their directories.
func removeAll(files []string) {
	dirs := map[string]bool{}
	for _, f := range files {
		os.Remove(f)
		dirs[filepath.Dir(f)] = true
	}
	for d := range dirs {
		safeio.SyncDir(d)
	}
}

func readHead(path string, max int64) ([]byte, error) {
	// Never through a symbolic link: it could name any file qscan reads.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}
