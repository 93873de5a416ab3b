package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
)

// The queue seam: the pipeline sees an MTA's queues only through MTA. Each
// implementation adapts a plain queue-format library (pkg/sendmail, and the
// others beside it) that knows nothing of scanning. Whatever the MTA, a
// batch follows the same protocol (journal.go): the outgoing files are
// written under names the MTA does not read (or, for the body, under a name
// it reads only once its control file exists), made durable, published by a
// link that never replaces a file, and only then are the incoming files
// released, control file first.

// ErrBusy marks a queue entry that its writer still holds (locked): it is
// tried again within milliseconds, without counting as an attempt.
var ErrBusy = errors.New("queue entry busy")

// ErrVanished marks a queue entry gone since it was listed.
var ErrVanished = errors.New("queue entry gone")

// Entry is one message in an incoming queue.
type Entry struct {
	ID string
	// Files are the message's files, its control file first (the one whose
	// presence makes the message, whose inode identifies it); they are
	// removed in this order when the message is released.
	Files   []string
	ModTime time.Time // of the control file
	Size    int64     // bytes of all its files
	// Missing: a file the message needs is not there (a sendmail qf
	// without its df): set aside once older than SetAsideAfter.
	Missing string
	Empty   bool // the control file is empty: being written, or left by a crash
}

// control returns the path of e's control file.
func (e Entry) control() string {
	if len(e.Files) == 0 {
		return ""
	}
	return e.Files[0]
}

// Claim is a locked incoming message: the MTA's own lock, held until
// Unlock, on open files that are the very ones read and, when unchanged,
// linked out.
type Claim interface {
	Control() *os.File
	// Body is the file that holds the body and where the body starts in
	// it; nil when the body is inside the control file (Control.Body).
	Body() (f *os.File, offset int64)
	Unlock()
}

// ControlReader is a Claim whose control is the head of its control file,
// not all of it (the spool's one-file entry: the envelope, then the
// message): ReadControl returns at most limit+1 bytes of it.
type ControlReader interface {
	ReadControl(limit int) ([]byte, error)
}

// readControl reads lk's control: at most limit+1 bytes (Parse refuses
// more).
func readControl(lk Claim, limit int) ([]byte, error) {
	if cr, ok := lk.(ControlReader); ok {
		return cr.ReadControl(limit)
	}
	return io.ReadAll(io.LimitReader(lk.Control(), int64(limit)+1))
}

// Control is a parsed control file: the envelope and the header of a
// message (sendmail's qf, Exim's -H, a Postfix queue file), with every
// record the pipeline does not change kept as it was.
type Control interface {
	Envelope() message.Envelope
	HeaderBlock() []byte
	Header(name string) (string, bool)
	// Edit makes the header edits of a decision, as message.EditHeader.
	Edit(edits []message.HeaderEdit, atTop bool) error
	// Forward adds recipients (replacing the others when only is set).
	Forward(addrs []string, only bool) error
}

// InlineBody is a Control that carries the message body itself (a Postfix
// queue file): the pipeline reads the body from it, not from a file.
type InlineBody interface {
	Body() []byte
}

// OutFile is one file of an outgoing message. Tmp, when set, is where it
// is written, under a name the MTA ignores, and it is published by linking
// Tmp to Final; without Tmp it is written under its final name, which the
// MTA only reads once a published file refers to it (sendmail's df).
type OutFile struct {
	Tmp   string `json:"t,omitempty"`
	Final string `json:"f"`
}

// Body is the body of a message being written out: Data when it was
// rebuilt, else the incoming body file from Offset, which must still
// match Stamp (the file that was read and checked, never a path again).
type Body struct {
	Data   []byte
	File   *os.File
	Offset int64
	Stamp  safeio.Stamp
}

// OutQueue is an outgoing queue directory in its present layout.
type OutQueue interface {
	// Taken reports whether id is in use in the queue (so another ID is
	// chosen: a file that is not ours is never overwritten).
	Taken(id string) bool
	// Files are the files Write makes for id, listed in the journal
	// before they are written.
	Files(id string) []OutFile
	// Write writes the message durably (files fsynced, not their
	// directories) as Files(id) says. On error it removes what it wrote.
	Write(id string, c Control, b Body) error
	// Dirs are the directories Write writes in: fsynced once per batch,
	// and where start-up recovery removes temporary files of ours.
	Dirs() []string
}

// MTA is one MTA's queue format.
type MTA interface {
	Name() string
	// List lists an incoming queue, oldest first.
	List(dir string) ([]Entry, error)
	// Lock claims e: ErrBusy when its writer holds it, ErrVanished when it
	// is gone; any other error means it cannot be read.
	Lock(e Entry) (Claim, error)
	// Parse reads a control file of at most MaxControlBytes.
	Parse(raw []byte) (Control, error)
	MaxControlBytes() int
	// Queued reports whether a message id may be in the incoming queue
	// dir (an error other than "does not exist" counts as yes).
	Queued(dir, id string) bool
	// Out opens the outgoing queue dir in its present layout.
	Out(dir string) OutQueue
	// New makes the control file of a message qscan writes itself (a
	// report), from the null sender.
	New(rcpts []string, header []byte, t time.Time, body []byte) (Control, error)
	// NewID returns a fresh queue ID for the outgoing queue.
	NewID() string
	// LostName is the name a control file that cannot be read is renamed
	// to, where neither the MTA nor qscan reads it; "" if none.
	LostName(e Entry) string
	// Watch says which directories of the incoming queue dir announce new
	// mail (the first exists; others are watched when they exist) and
	// which file names are control files.
	Watch(dir string) (dirs []string, match func(name string) bool)
}

// Kicker asks the outgoing MTA to deliver some queue IDs now.
type Kicker interface {
	Kick(ctx context.Context, dir string, ids ...string) ([]byte, error)
	// Program names what is run, for the log; "" disables kicks.
	Program() string
	// MaxIDs is how many IDs one kick takes.
	MaxIDs() int
}
