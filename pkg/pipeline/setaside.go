package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

// errOwnFault marks a failure that comes from the message itself (its
// envelope or header cannot be written out): unlike an engine being down,
// it counts as a processing attempt, so that such a message ends
// quarantined after max_attempts instead of being held for ever.
var errOwnFault = errors.New("pipeline: the message cannot be written out")

// LostPrefix starts the name sendmail gives a queue file it cannot use
// ("Qf<ID>", a lost queue file): neither sendmail nor qscan reads it.
const LostPrefix = "Qf"

// cannotClaim deals with queue files that could not be locked or read for
// a reason other than another process's lock or their removal meanwhile
// (e.g. not readable by qscan's user). While the qf is younger than
// SetAsideAfter the message is held back (so that it is not retried, and
// logged, at every batch); after that it is set aside: its qf renamed to
// Qf<ID>, sendmail's name for a lost queue file, with an error log line
// that says how to put it back. It cannot be quarantined: qscan cannot
// read it.
func (p *Pipeline) cannotClaim(e Entry, now time.Time, err error) {
	if errors.Is(err, ErrBusy) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrVanished) {
		return // sendmail's, or a batch of ours; or gone since the listing
	}
	log := p.log.WithError(err).WithField("id", e.ID)
	if now.Sub(e.ModTime) <= p.opt.SetAsideAfter {
		d := p.held.hold(e.ID, now)
		log.Warnf("cannot claim queue files, retry in %s", d.Round(time.Second))
		return
	}
	name := p.mta.LostName(e)
	if name == "" {
		log.Errorf("cannot claim queue files (%s has no name for a lost queue file: fix the files or remove them)", p.mta.Name())
		p.held.hold(e.ID, now)
		return
	}
	ctl := e.control()
	lost := filepath.Join(filepath.Dir(ctl), name)
	if _, serr := os.Lstat(lost); serr == nil {
		log.Errorf("cannot claim queue files, nor set them aside: %s exists", lost)
		p.held.hold(e.ID, now)
		return
	}
	if rerr := os.Rename(ctl, lost); rerr != nil {
		log.Errorf("cannot claim queue files, nor set them aside: %v", rerr)
		p.held.hold(e.ID, now)
		return
	}
	safeio.SyncDir(filepath.Dir(ctl))
	p.held.release(e.ID)
	log.WithField("set_aside", lost).Errorf("queue files set aside as %s: qscan cannot read them; once fixed, rename it back to %s", lost, filepath.Base(ctl))
	p.obs.Quarantined("unreadable")
}

// Left returns the IDs of the messages in the incoming queues: after
// Drain, what it could not finish (held back for a retry, locked, still
// being written, unreadable and not yet set aside).
func (p *Pipeline) Left() []string {
	var ids []string
	for _, e := range p.candidates() {
		ids = append(ids, e.ID)
	}
	return ids
}
