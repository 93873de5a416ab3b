package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/safeio"
)

// item is one claimed message: its locked incoming files and what the
// checks made of it.
type item struct {
	entry   Entry
	lock    Claim
	qf      Control // the parsed control file
	qfRaw   []byte
	inode   uint64
	dfStamp safeio.Stamp // the body file when claimed: what is linked out must be it
	msg     *message.Message
	attempt int
	// epoch is the holds' epoch when the checks began: a later one means
	// an engine came back meanwhile (see holdItem).
	epoch uint64

	// set by process
	err           error // the checks could not be done: hold
	verdict       message.Verdict
	outQf         Control
	outBody       []byte // nil: body unchanged, link the incoming df
	whole         string // non-empty: quarantine the whole message with this reason
	decision      message.Decision
	quarantineDir string         // its quarantine entry (whole, or the original of a cleaned message)
	generated     bool           // a report qscan wrote itself: no incoming files
	dropped       bool           // a generated report not sent: its messages are checked again
	mail          *notify.Queued // the report, when generated
	outID         string         // the ID in the outgoing queue, once committed
	sent          *sendOutcome   // re-injection: what the downstream made of it
	stageMS       map[string]int64
	start         time.Time

	// quarantineStaged is that entry while it is staged: the batch commit
	// publishes it (see commit.go).
	quarantineStaged string
}

// candidates lists every incoming queue, oldest first.
func (p *Pipeline) candidates() []Entry {
	var all []Entry
	for _, dir := range p.opt.Incoming {
		es, err := p.mta.List(dir)
		if err != nil {
			p.log.WithError(err).Errorf("cannot list incoming queue %s", dir)
			continue
		}
		all = append(all, es...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ModTime.Before(all[j].ModTime) })
	return all
}

// claim locks up to the batch limits of messages, oldest first. The
// message that crosses max_bytes is included, so a message larger than the
// limit still gets through on its own.
//
// A listing of the incoming queues serves several batches while it is
// fresh (listFresh): re-listing a queue of thousands for every batch of 30
// costs more than the batch. What was listed but not taken comes first in
// the next batch; what arrived since waits at most listFresh.
func (p *Pipeline) claim() []*item {
	now := time.Now()
	cached := len(p.pending) > 0 && now.Sub(p.listedAt) < listFresh
	if !cached {
		p.list(now)
	}
	batch := p.claimFrom()
	if len(batch) == 0 && cached {
		p.list(now)
		batch = p.claimFrom()
	}
	return batch
}

// list reads the incoming queues into p.pending and forgets the busy
// entries that are gone.
func (p *Pipeline) list(now time.Time) {
	p.pending, p.listedAt = p.candidates(), now
	ids := make(map[string]bool, len(p.pending))
	for _, e := range p.pending {
		ids[e.ID] = true
	}
	p.busy.keep(ids)
}

// listFresh is how long a listing of the incoming queues is reused.
const listFresh = time.Second

// claimFrom claims from p.pending, oldest first, and drops what it looked
// at (claimed, or skipped for now: locked, held, still being written).
func (p *Pipeline) claimFrom() []*item {
	now := p.now()
	var batch []*item
	var bytes int64
	n := 0
	for _, e := range p.pending {
		if len(batch) >= p.opt.MaxMessages || bytes >= p.opt.MaxBytes {
			break
		}
		n++
		if p.held.waiting(e.ID, now) || p.checking[e.ID] {
			continue
		}
		it, ok := p.claimOne(e, now)
		if !ok {
			continue
		}
		batch = append(batch, it)
		bytes += e.Size
	}
	p.pending = p.pending[n:]
	return batch
}

// claimOne locks and parses one message. Messages still being written
// (or locked) are skipped and noted busy, to be tried again soon; corrupt
// ones are set aside.
func (p *Pipeline) claimOne(e Entry, now time.Time) (*item, bool) {
	it, ok, wait := p.claimEntry(e, now)
	if wait {
		p.busy.note(e.ID, time.Now()) // real time: it paces retries, decides nothing
	} else {
		p.busy.clear(e.ID)
	}
	return it, ok
}

// claimEntry is claimOne without the busy bookkeeping: wait reports an
// entry that its writer still has (locked, empty or without its df while
// young), as opposed to one claimed, set aside or gone.
func (p *Pipeline) claimEntry(e Entry, now time.Time) (it *item, ok, wait bool) {
	old := now.Sub(e.ModTime) > p.opt.SetAsideAfter
	if e.Empty {
		if old {
			p.setAside(e, nil, "empty queue file")
		}
		return nil, false, !old
	}
	if e.Missing != "" {
		if old {
			p.setAside(e, nil, e.Missing)
		}
		return nil, false, !old
	}
	lk, err := p.mta.Lock(e)
	if err != nil {
		// Locked: ours (the batch being committed) or the MTA's; gone:
		// committed since the listing (locked is busy: tried again
		// soon); else unreadable (setaside.go).
		p.cannotClaim(e, now, err)
		return nil, false, errors.Is(err, ErrBusy)
	}
	it = &item{entry: e, lock: lk, start: now, epoch: p.held.epochNow()}
	st, err := lk.Control().Stat()
	if err != nil {
		lk.Unlock()
		p.cannotClaim(e, now, err)
		return nil, false, false
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		it.inode = sys.Ino
	}
	if body, _ := lk.Body(); body != nil {
		if it.dfStamp, err = safeio.StampOf(body); err != nil {
			lk.Unlock()
			p.cannotClaim(e, now, err)
			return nil, false, false
		}
	}
	raw, err := readControl(lk, p.mta.MaxControlBytes())
	if err != nil {
		lk.Unlock()
		p.cannotClaim(e, now, err)
		return nil, false, false
	}
	if len(raw) == 0 {
		if old {
			p.setAsideLocked(it, "empty queue file")
		} else {
			lk.Unlock()
		}
		return nil, false, !old
	}
	qf, err := p.mta.Parse(raw)
	if cc, ok := lk.(Completer); ok && err == nil {
		err = cc.Complete(qf) // the header is in the body file
	}
	if err != nil {
		it.qfRaw = raw
		p.setAsideLocked(it, fmt.Sprintf("corrupt queue file: %v", err))
		return nil, false, false
	}
	it.qf, it.qfRaw = qf, raw
	return it, true, false
}

// unlockAll releases the locks of a batch's items that are still held.
func unlockAll(items []*item) {
	for _, it := range items {
		if it.lock != nil {
			it.lock.Unlock()
			it.lock = nil
		}
	}
}

// bumpAttempts records one more attempt for each item before any work is
// done, so that a message that crashes qscan is counted.
func (p *Pipeline) bumpAttempts(ctx context.Context, items []*item) error {
	if p.attempts == nil {
		return nil
	}
	if err := p.undoPending(ctx); err != nil {
		return err // counting now would count what was not the messages' fault
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.entry.ID
	}
	counts, err := p.attempts.BumpAttempts(ctx, ids, p.now())
	if err != nil {
		return err
	}
	for _, it := range items {
		it.attempt = counts[it.entry.ID]
	}
	return nil
}
