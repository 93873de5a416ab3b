package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/qscan/qscan/pkg/safeio"
)

// errJournal wraps failures to write the journal: without it qscan cannot
// promise exactly-once delivery, so the daemon stops.
var errJournal = errors.New("pipeline: journal")

// commit writes the batch's messages to the outgoing queue and releases
// their incoming copies, following the protocol in journal.go.
func (p *Pipeline) commit(items []*item) error {
	if len(items) == 0 {
		return nil
	}
	if p.opt.Reinject != nil {
		return p.commitSend(items)
	}
	batch := p.now().UnixNano()
	entries := p.plan(items)
	if err := p.journal.append(record{Batch: batch, Op: opPrepare, Entries: entries}, true); err != nil {
		p.undo(entries) // the staged quarantine entries
		return fmt.Errorf("%w: %v", errJournal, err)
	}
	p.fail("prepared")
	if err := p.writeAll(items, entries); err != nil {
		p.undo(entries)
		p.journal.append(record{Batch: batch, Op: opDone}, false)
		return err
	}
	if err := syncOut(entries); err != nil {
		p.undo(entries)
		p.journal.append(record{Batch: batch, Op: opDone}, false)
		return err
	}
	// The commit point: from here on the batch is delivered.
	if err := p.journal.append(record{Batch: batch, Op: opCommit}, true); err != nil {
		return fmt.Errorf("%w: %v", errJournal, err)
	}
	p.fail("committed")
	if err := p.finish(entries); err != nil {
		return fmt.Errorf("%w: committed batch not finished (recovery at the next start finishes it): %v", errJournal, err)
	}
	for i, it := range items {
		if entries[i].published != "" {
			it.quarantineDir = entries[i].published
		}
	}
	if err := p.journal.append(record{Batch: batch, Op: opDone}, false); err != nil {
		return fmt.Errorf("%w: %v", errJournal, err)
	}
	var ids []string
	for i, it := range items {
		it.outID = entries[i].OutID
		if !it.generated {
			ids = append(ids, it.entry.ID)
			p.held.release(it.entry.ID)
		}
	}
	if p.attempts != nil {
		if err := p.attempts.ClearAttempts(context.Background(), ids); err != nil {
			p.log.WithError(err).Warn("cannot clear processing attempts")
		}
	}
	p.kick(entries)
	return nil
}

// plan chooses the outgoing ID of each message: its own, unless that name
// is taken in the outgoing queue (or by another message of the batch).
func (p *Pipeline) plan(items []*item) []entry {
	used := map[string]bool{}
	out := p.mta.Out(p.opt.Outgoing)
	es := make([]entry, len(items))
	for i, it := range items {
		es[i] = entry{In: it.entry.Files, InInode: it.inode, QDir: it.quarantineStaged}
		if it.whole != "" {
			es[i].Whole = true // quarantined: nothing goes out
			continue
		}
		id := it.entry.ID
		for used[id] || out.Taken(id) {
			id = p.mta.NewID()
		}
		used[id] = true
		es[i].OutID, es[i].Out = id, out.Files(id)
		if id != it.entry.ID {
			p.log.WithField("id", it.entry.ID).Warnf("ID taken in the outgoing queue, using %s", id)
		}
	}
	return es
}

// commitWriters is how many outgoing files are written and fsynced at
// once: the filesystem's journal takes concurrent fsyncs in one commit, so
// a batch costs a few disk flushes instead of one per message.
const commitWriters = 8

// writeAll runs writeOut for every item, commitWriters at a time, and
// returns the first error (in batch order) once all have finished.
func (p *Pipeline) writeAll(items []*item, entries []entry) error {
	errs := make([]error, len(items))
	sem := make(chan struct{}, commitWriters)
	var wg sync.WaitGroup
	out := p.mta.Out(p.opt.Outgoing)
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = p.writeOut(out, it, &entries[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("write %s to the outgoing queue: %w", items[i].entry.ID, err)
		}
	}
	return nil
}

// writeOut writes the outgoing files of a message durably, under names
// the outgoing MTA does not read yet (sendmail: df<ID>, a hard link when
// the body is unchanged, and tf<ID>).
func (p *Pipeline) writeOut(out OutQueue, it *item, e *entry) error {
	if e.OutID == "" {
		return nil // quarantined whole
	}
	b := Body{Data: it.outBody, Stamp: it.dfStamp}
	if b.Data == nil {
		if in, ok := it.outQf.(InlineBody); ok {
			b.Data = in.Body()
		} else if it.lock != nil {
			b.File, b.Offset = it.lock.Body()
		}
	}
	if err := out.Write(e.OutID, it.outQf, b); err != nil {
		return err
	}
	e.wrote = true
	return nil
}

// undo removes the outgoing files and the staged quarantine entries of a
// batch that will not be committed.
func (p *Pipeline) undo(es []entry) {
	for _, e := range es {
		if e.QDir != "" {
			if err := p.quarantine.Discard(e.QDir); err != nil {
				p.log.WithError(err).Warn("cannot remove the staged quarantine entry of a message kept in the queue")
			}
		}
		if !e.wrote {
			continue
		}
		for _, f := range e.Out {
			if f.Tmp != "" {
				os.Remove(f.Tmp)
			} else {
				os.Remove(f.Final)
			}
		}
	}
	syncOut(es)
}

// finish publishes the outgoing files (sendmail: tf<ID> as qf<ID>), makes
// that durable, and only then releases the incoming copies. It is
// idempotent: recovery runs it again after a crash. An error means a
// published message might not be durable: the incoming copies of the
// batch are kept and the daemon must stop, so that recovery finishes the
// batch instead of the message being checked and delivered a second time.
func (p *Pipeline) finish(es []entry) error {
	inDirs := map[string]bool{}
	keep := p.publishQuarantine(es)
	for _, e := range es {
		// link+unlink rather than rename: never replace a file.
		if err := publishFiles(e.Out); err != nil {
			return err
		}
	}
	if err := syncOut(es); err != nil {
		return err
	}
	p.fail("published")
	for i, e := range es {
		if keep[i] {
			continue
		}
		if p.releaseIncoming(e) {
			for _, f := range e.In {
				inDirs[filepath.Dir(f)] = true
			}
		}
	}
	for d := range inDirs {
		if err := safeio.SyncDir(d); err != nil {
			p.log.WithError(err).Error("cannot fsync incoming queue")
		}
	}
	return nil
}

// publishQuarantine publishes the staged quarantine entries of a
// committed batch and returns the messages whose incoming copy must stay:
// those quarantined whole whose entry could not be published (it would
// be their only copy). They are checked again later; a cleaned message
// goes out even so, without its quarantine copy.
func (p *Pipeline) publishQuarantine(es []entry) map[int]bool {
	keep := map[int]bool{}
	for i := range es {
		if es[i].QDir == "" {
			continue
		}
		dir, err := p.quarantine.Publish(es[i].QDir)
		if err != nil {
			p.log.WithError(err).WithField("quarantine", es[i].QDir).Error("cannot publish a quarantine entry")
			if es[i].Whole {
				keep[i] = true
			}
			continue
		}
		es[i].published = dir
	}
	return keep
}

// releaseIncoming unlinks the incoming files, control file first, but
// only when the control file is still the one that was committed (same
// inode).
func (p *Pipeline) releaseIncoming(e entry) bool {
	if len(e.In) == 0 {
		return false // a message qscan generated
	}
	ctl := e.In[0]
	if e.InInode != 0 && !sameInode(ctl, e.InInode) {
		if _, err := os.Stat(ctl); err == nil {
			return false // a new message under the same name
		}
	} else if err := os.Remove(ctl); err != nil && !os.IsNotExist(err) {
		p.log.WithError(err).Error("cannot remove incoming queue file")
		return false
	}
	for _, f := range e.In[1:] {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			p.log.WithError(err).Errorf("cannot remove incoming queue file %s", filepath.Base(f))
		}
	}
	return true
}

// kick asks the outgoing MTA to deliver the batch now, Kicker.MaxIDs IDs
// per run.
func (p *Pipeline) kick(es []entry) {
	k := p.opt.Kick
	if k == nil || k.Program() == "" {
		return
	}
	es = slices.DeleteFunc(slices.Clone(es), func(e entry) bool { return e.OutID == "" }) // quarantined whole
	n := max(k.MaxIDs(), 1)
	for start := 0; start < len(es); start += n {
		var ids []string
		for _, e := range es[start:min(start+n, len(es))] {
			ids = append(ids, e.OutID)
		}
		p.kicks.Add(1)
		go func() {
			defer p.kicks.Done()
			out, err := k.Kick(context.Background(), p.opt.Outgoing, ids...)
			p.kickDone(k.Program(), out, err)
		}()
	}
}

// kickState remembers whether the last kick failed (see kickDone).
type kickState struct {
	mu      sync.Mutex
	failing bool
}

// kickDone logs a kick's outcome when it differs from the last one: the
// first failure with sendmail's reason, then nothing more until a kick
// works again, which is logged once too. Every batch kicks, and a kick
// that cannot work (sendmail refusing user qscan a queue run: exit 77)
// would otherwise log a line per batch. Mail is not delayed beyond the
// outgoing queue runner's interval either way.
func (p *Pipeline) kickDone(sendmail string, out []byte, err error) {
	k := &p.kickState
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err != nil && !k.failing:
		k.failing = true
		p.log.WithError(err).Warnf("kick %s failing: %s (mail waits for the outgoing queue runner; logged again when kicks work again)",
			sendmail, bytes.TrimSpace(out))
	case err == nil && k.failing:
		k.failing = false
		p.log.Infof("kick %s works again", sendmail)
	case err != nil:
		p.log.WithError(err).Debugf("kick %s failing: %s", sendmail, bytes.TrimSpace(out))
	}
}
