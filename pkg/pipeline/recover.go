package pipeline

import (
	"fmt"
	"os"
	"syscall"

	"github.com/qscan/qscan/pkg/safeio"
)

// recover finishes the batches a crash interrupted after their commit
// record (publishing their quarantine entries), removes the outgoing files
// and staged quarantine entries of batches interrupted before it, and
// removes qscan's own temporary files. Then the journal starts afresh.
func (p *Pipeline) recover() error {
	f, err := os.Open(p.journal.path)
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	pending, err := readJournal(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	for _, b := range pending {
		if b.send {
			p.recoverSend(b)
			continue
		}
		if b.committed {
			p.log.Warnf("recovery: finishing committed batch %d (%d messages)", b.id, len(b.entries))
			if err := p.finish(b.entries); err != nil {
				return fmt.Errorf("recovery: batch %d: %w", b.id, err)
			}
		} else {
			p.log.Warnf("recovery: undoing uncommitted batch %d (%d messages), they will be processed again", b.id, len(b.entries))
			p.undoUncommitted(b.entries)
		}
	}
	p.recoverStaged()
	// Only the outgoing queue: qscan writes nothing into the incoming
	// queues, where other programs (qscan enqueue) may be writing now.
	for _, d := range p.mta.Out(p.opt.Outgoing).Dirs() {
		if removed, _ := safeio.RemoveTemps(d); len(removed) > 0 {
			p.log.Warnf("recovery: removed %d temporary files of ours from %s", len(removed), d)
		}
	}
	return p.journal.reset()
}

// undoUncommitted removes what an uncommitted batch wrote: its temporary
// files (sendmail: tf<ID>), and the files written under their final name
// (df<ID>) unless a published file (qf<ID>: someone else's message, as
// nothing of an uncommitted batch is published) owns them.
func (p *Pipeline) undoUncommitted(es []entry) {
	for _, e := range es {
		owned := false // a file of the entry that is published under its final name
		for _, f := range e.Out {
			if f.Tmp == "" {
				continue
			}
			os.Remove(f.Tmp)
			if _, err := os.Lstat(f.Final); !os.IsNotExist(err) {
				owned = true
			}
		}
		if owned {
			continue
		}
		for _, f := range e.Out {
			if f.Tmp == "" {
				os.Remove(f.Final)
			}
		}
	}
	syncOut(es)
}

// recoverStaged removes the staged quarantine entries left by a crash:
// those of committed batches were published by finish, the others belong
// to batches that were not committed, whose messages are still in the
// incoming queue and will be checked again. A staged entry whose message
// is in no incoming queue any more is published instead: it may be the
// only copy of the message left.
func (p *Pipeline) recoverStaged() {
	staged, err := p.quarantine.Staged()
	if err != nil {
		p.log.WithError(err).Warn("recovery: cannot list staged quarantine entries")
		return
	}
	for _, s := range staged {
		if p.inIncoming(s.ID) {
			if err := p.quarantine.Discard(s.Dir); err != nil {
				p.log.WithError(err).Warn("recovery: cannot remove a staged quarantine entry")
			}
			continue
		}
		dir, err := p.quarantine.Publish(s.Dir)
		if err != nil {
			p.log.WithError(err).WithField("id", s.ID).Error("recovery: cannot publish the staged quarantine entry of a message no longer queued")
			continue
		}
		p.log.WithField("id", s.ID).WithField("quarantine", dir).Warn("recovery: kept the staged quarantine entry of a message no longer in the incoming queue")
	}
}

// inIncoming reports whether a message id may be in an incoming queue (an
// error other than "does not exist" counts as yes).
func (p *Pipeline) inIncoming(id string) bool {
	for _, dir := range p.opt.Incoming {
		if p.mta.Queued(dir, id) {
			return true
		}
	}
	return false
}

func sameInode(path string, ino uint64) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false
	}
	return st.Ino == ino
}
