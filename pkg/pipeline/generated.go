package pipeline

import (
	"cmp"
	"fmt"
	"os"
	"slices"

	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/spool"
)

// The messages qscan writes itself in the SMTP filter's layout (reports,
// notices) go through its spool: staged before a re-injected batch's
// prepare record, published after its sends, sent with a later batch.

// stageGenerated writes the messages qscan generated in the batch
// (reports, notices) into the spool under names it does not list yet, and
// makes them durable before the prepare record names them: a crash before
// that record leaves temporary files that the spool's clean-up at start
// removes (and the batch is checked again, its reports made again); after
// it, recovery publishes them. They are sent with a later batch, like any
// spooled message. An error (a full disk) fails the commit: the batch stays
// in the spool.
func (p *Pipeline) stageGenerated(items []*item, es []entry) error {
	out := spoolOut{dir: p.spool().Dir}
	used := map[string]bool{}
	staged := false
	for i, it := range items {
		if !it.generated {
			continue
		}
		if sc, ok := it.outQf.(*SpoolControl); ok {
			sc.Env = genEnvelope(sc.Env)
		}
		id := it.entry.ID
		for used[id] || out.Taken(id) {
			id = p.mta.NewID()
		}
		used[id] = true
		es[i].OutID, es[i].Out = id, out.Files(id)
		if it.mail != nil {
			es[i].About = it.mail.About
		}
		if err := p.writeOut(out, it, &es[i]); err != nil {
			return fmt.Errorf("write the report %s to the spool: %w", id, err)
		}
		staged = true
	}
	if !staged {
		return nil
	}
	return safeio.SyncDir(out.dir)
}

// publishGenerated links the staged envelopes of the batch's generated
// messages to their names in the spool (where the watcher sees them) and
// makes that durable. A report about messages none of which is settled
// (all kept in the spool, to be checked and reported again) is removed
// instead. It returns the indexes of the reports removed. An error stops
// the daemon: recovery publishes them.
func (p *Pipeline) publishGenerated(es []entry, settled func(i int) bool) (map[int]bool, error) {
	done := map[string]bool{}
	for i, e := range es {
		if len(e.In) > 0 && settled(i) {
			done[e.OutID] = true
		}
	}
	var gen []entry
	dropped := map[int]bool{}
	for i, e := range es {
		if len(e.In) > 0 || len(e.Out) == 0 {
			continue
		}
		gen = append(gen, e)
		if len(e.About) > 0 && !slices.ContainsFunc(e.About, func(id string) bool { return done[id] }) && staged(e.Out) {
			for _, f := range e.Out {
				os.Remove(cmp.Or(f.Tmp, f.Final))
			}
			dropped[i] = true
			continue
		}
		if err := publishFiles(e.Out); err != nil {
			return nil, fmt.Errorf("%w: %v", errJournal, err)
		}
		p.spooled.Store(true)
	}
	if err := syncOut(gen); err != nil {
		return nil, fmt.Errorf("%w: %v", errJournal, err)
	}
	return dropped, nil
}

// staged reports whether files are still unpublished: a temporary file of
// theirs is there (a report published before a crash is never taken back).
func staged(files []OutFile) bool {
	for _, f := range files {
		if f.Tmp != "" {
			if _, err := os.Lstat(f.Tmp); err == nil {
				return true
			}
		}
	}
	return false
}

// genEnvelope is env as spooled by qscan itself.
func genEnvelope(env *spool.Envelope) *spool.Envelope {
	n := *env
	if n.Listener == "" {
		n.Listener = GeneratedListener
	}
	return &n
}

// spool is the first incoming queue, the filter's spool.
func (p *Pipeline) spool() spool.Spool {
	if len(p.opt.Incoming) == 0 {
		return spool.Spool{}
	}
	return spool.Spool{Dir: p.opt.Incoming[0]}
}

// idSource gives spool IDs from the MTA.
type idSource struct{ m MTA }

func (s idSource) Next() string { return s.m.NewID() }
