package pipeline

import (
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// The outgoing queue may be flat or nested (qf/ and df/ sub-directories,
// or only one of them): the files go where sendmail reads them, in the
// layout sendmail.OpenQueue finds when a batch is planned, which the
// journal keeps for recovery.

// outQueue returns the outgoing queue in its present layout; if it cannot
// be looked at, the flat layout (writing will then fail and say why).
func (p *Pipeline) outQueue() sendmail.Queue {
	q, err := sendmail.OpenQueue(p.opt.Outgoing)
	if err != nil {
		return sendmail.Queue{Dir: p.opt.Outgoing}
	}
	return q
}

// out is the outgoing queue of e, in its layout.
func (e entry) out() sendmail.Queue {
	return sendmail.Queue{Dir: e.OutDir, SubQf: e.OutSubQf, SubDf: e.OutSubDf, Nested: e.OutSubQf && e.OutSubDf}
}

// outDirs returns the directories of the outgoing files of es (none for
// a message quarantined whole).
func outDirs(es []entry) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, e := range es {
		if e.OutID == "" {
			continue
		}
		for _, d := range e.out().Dirs() {
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// syncOut fsyncs the directories of the outgoing files of es.
func syncOut(es []entry) error {
	for _, d := range outDirs(es) {
		if err := safeio.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}
