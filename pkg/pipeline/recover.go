package pipeline

import (
	"fmt"
	"os"
	"syscall"

	"github.com/qscan/qscan/pkg/safeio"
)

// recover finishes the batches a crash interrupted after their commit
// record, removes the outgoing files of batches interrupted before it, and
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
	// Only the outgoing queue: qscan writes nothing into the incoming
	// queues, where other programs (qscan enqueue) may be writing now.
	for _, d := range p.outQueue().Dirs() {
		if removed, _ := safeio.RemoveTemps(d); len(removed) > 0 {
			p.log.Warnf("recovery: removed %d temporary files of ours from %s", len(removed), d)
		}
	}
	return p.journal.reset()
}

// undoUncommitted removes what an uncommitted batch wrote: its tf<ID>,
// and its df<ID> unless a qf<ID> (someone else's message) owns it.
func (p *Pipeline) undoUncommitted(es []entry) {
	for _, e := range es {
		os.Remove(e.out().TfPath(e.OutID))
		if _, err := os.Stat(e.out().QfPath(e.OutID)); os.IsNotExist(err) {
			os.Remove(e.out().DfPath(e.OutID))
		}
	}
	syncOut(es)
}

func sameInode(path string, ino uint64) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false
	}
	return st.Ino == ino
}
