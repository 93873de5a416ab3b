package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// The journal makes the commit of a batch atomic across a crash.
//
//	prepare  (fsynced) which incoming message goes to which outgoing ID,
//	         written before any outgoing file exists
//	commit   (fsynced) every outgoing file is durable (sendmail: df and
//	         tf<ID>); from here on the batch is delivered, recovery
//	         finishes it instead of redoing it
//	done     the files were published (tf<ID> linked to qf<ID>) and the
//	         incoming copies released (not fsynced: recovery repeats the
//	         idempotent steps)
//
// The MTA ignores the files before they are published (sendmail: tf
// files, and a df without its qf), so nothing is visible to the outgoing
// MTA before the commit record is durable: a crash before it leaves only
// files recovery removes, a crash after it leaves work recovery completes.
// Either way each message is delivered exactly once.
//
// The quarantine follows the same discipline: an entry is staged (written
// durably under a name no listing shows) before the prepare record, and
// published (renamed to its entry name) after the commit record, before
// the incoming copy is released. Recovery publishes the staged entries of
// committed batches and removes the others, so each message has one entry
// whatever the crashes.

type journalOp string

const (
	opPrepare journalOp = "prepare"
	opCommit  journalOp = "commit"
	opDone    journalOp = "done"
	// opSent (re-injection, deliver.go): the downstream took message I
	// of the batch (fsynced, in groups): it is released, never sent
	// again; Left are the recipients it still has to go to.
	opSent journalOp = "sent"
)

// entry is one message of a prepared batch.
type entry struct {
	// In are the incoming files, control file first, removed in this order
	// when the message is released.
	In      []string `json:"in,omitempty"`
	InInode uint64   `json:"ino"` // inode of the incoming control file, so a reused name is never released
	OutID   string   `json:"o"`
	// Out are the outgoing files (OutQueue.Files), in the layout of the
	// outgoing queue when the batch was planned.
	Out []OutFile `json:"out,omitempty"`
	// QDir is the message's staged quarantine entry, published at the
	// commit before its incoming copy is released.
	QDir string `json:"q,omitempty"`
	// Whole: no outgoing copy (OutID ""), the quarantine entry is the
	// message's durable copy.
	Whole bool `json:"w,omitempty"`
	// About: for a report qscan generated in a re-injected batch, the
	// queue IDs of the messages it is about (published only when one of
	// them is settled; the others are checked, and reported, again).
	About []string `json:"about,omitempty"`

	// The sendmail fields of journals written before the queue seam,
	// read (upgrade) and turned into In and Out.
	InQf     string `json:"iq,omitempty"`
	InDf     string `json:"id,omitempty"`
	OutDir   string `json:"od,omitempty"`
	OutSubQf bool   `json:"oq,omitempty"`
	OutSubDf bool   `json:"odf,omitempty"`

	// wrote: this process wrote the outgoing files (not journalled).
	wrote bool
	// published is where QDir went (not journalled).
	published string
}

// upgrade turns an entry of an older journal (sendmail's files by name)
// into the present form.
func (e *entry) upgrade() {
	if e.In == nil && e.InQf != "" {
		e.In = []string{e.InQf, e.InDf}
	}
	if e.Out == nil && e.OutID != "" && e.OutDir != "" {
		q := sendmail.Queue{Dir: e.OutDir, SubQf: e.OutSubQf, SubDf: e.OutSubDf, Nested: e.OutSubQf && e.OutSubDf}
		e.Out = sendmailOut{q}.Files(e.OutID)
	}
	e.InQf, e.InDf, e.OutDir, e.OutSubQf, e.OutSubDf = "", "", "", false, false
}

type record struct {
	Batch   int64     `json:"b"`
	Op      journalOp `json:"op"`
	Entries []entry   `json:"m,omitempty"`
	// Send: a batch re-injected over SMTP (deliver.go), not written to an
	// outgoing queue.
	Send bool     `json:"s,omitempty"`
	I    int      `json:"i,omitempty"`
	Left []string `json:"l,omitempty"`
}

// journal is an append-only file of records, one JSON object per line.
type journal struct {
	path string
	mu   sync.Mutex
	f    *os.File
	size int64
	// group fsyncs (appendGroup): records written, records known synced,
	// and whether an fsync is under way.
	written, synced uint64
	syncing         bool
	cond            *sync.Cond
}

func openJournal(dir string) (*journal, error) {
	p := filepath.Join(dir, "journal")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal open %s: %w", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal stat %s: %w", p, err)
	}
	j := &journal{path: p, f: f, size: st.Size()}
	j.cond = sync.NewCond(&j.mu)
	return j, nil
}

func (j *journal) append(r record, sync bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.write(r); err != nil {
		return err
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal fsync %s: %w", j.path, err)
		}
	}
	return nil
}

// write appends r; j.mu is held.
func (j *journal) write(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal encode: %w", err)
	}
	b = append(b, '\n')
	n, err := j.f.Write(b)
	j.size += int64(n)
	j.written++
	if err != nil {
		return fmt.Errorf("journal write %s: %w", j.path, err)
	}
	return nil
}

// appendGroup appends r and returns once it is fsynced. Concurrent
// callers share fsyncs: a record written while an fsync runs is synced by
// the next one, which covers every record written before it started.
func (j *journal) appendGroup(r record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.write(r); err != nil {
		return err
	}
	mine := j.written
	for j.synced < mine {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.syncing = true
		target := j.written
		j.mu.Unlock()
		err := j.f.Sync()
		j.mu.Lock()
		j.syncing = false
		j.cond.Broadcast()
		if err != nil {
			return fmt.Errorf("journal fsync %s: %w", j.path, err)
		}
		j.synced = max(j.synced, target)
	}
	return nil
}

// reset empties the journal; only call it when no batch is in flight.
func (j *journal) reset() error {
	if _, err := safeio.WriteFile(j.path, bytes.NewReader(nil), safeio.Options{SyncDir: true}); err != nil {
		return fmt.Errorf("journal reset: %w", err)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal reopen %s: %w", j.path, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.f.Close()
	j.f, j.size = f, 0
	return nil
}

func (j *journal) close() error { return j.f.Close() }

// pendingBatch is a batch found in the journal without its done record.
type pendingBatch struct {
	id        int64
	entries   []entry
	committed bool
	// send: re-injected over SMTP; sent has the entries the downstream
	// took, with the recipients left.
	send bool
	sent map[int][]string
}

// readJournal returns the batches that were prepared but not done, in
// order. A torn last line (crash while appending) was never fsynced, so it
// is ignored: the step it describes did not happen.
func readJournal(r io.Reader) ([]pendingBatch, error) {
	byID := map[int64]*pendingBatch{}
	var order []int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			continue
		}
		switch rec.Op {
		case opPrepare:
			for i := range rec.Entries {
				rec.Entries[i].upgrade()
			}
			byID[rec.Batch] = &pendingBatch{id: rec.Batch, entries: rec.Entries, send: rec.Send, sent: map[int][]string{}}
			order = append(order, rec.Batch)
		case opSent:
			if b := byID[rec.Batch]; b != nil && rec.I >= 0 && rec.I < len(b.entries) {
				b.sent[rec.I] = rec.Left
			}
		case opCommit:
			if b := byID[rec.Batch]; b != nil {
				b.committed = true
			}
		case opDone:
			delete(byID, rec.Batch)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal read: %w", err)
	}
	var out []pendingBatch
	for _, id := range order {
		if b := byID[id]; b != nil {
			out = append(out, *b)
		}
	}
	return out, nil
}
