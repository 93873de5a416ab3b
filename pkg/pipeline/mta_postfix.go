package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/postfix"
)

// Postfix is the MTA of MailScanner's Postfix layout: Postfix's
// header_checks (/^Received:/ HOLD) park every message in the hold queue,
// the incoming queue dir of qscan (queue_directory/hold); qscan writes the
// checked message as a queue file into Postfix's incoming queue (its
// outgoing dir, queue_directory/incoming), where the queue manager takes
// it, and removes the held file. Queue files hold the whole message:
// there is no body file to link, the queue file is written anew.
//
// This edits Postfix's queue files, which Postfix does not offer as an
// interface; the SMTP content filter is the supported way.
type Postfix struct {
	Limits postfix.Limits
	// Queue carries main.cf's hash_queue_names, hash_queue_depth and
	// enable_long_queue_ids (postfix.ReadQueue); its Dir is not used: each
	// queue dir names its queue_directory (its parent).
	Queue postfix.Queue
	clock func() time.Time
	seq   atomic.Uint64
}

// NewPostfix returns the Postfix MTA with main.cf's queue settings q.
func NewPostfix(l postfix.Limits, q postfix.Queue, clock func() time.Time) *Postfix {
	if clock == nil {
		clock = time.Now
	}
	return &Postfix{Limits: l, Queue: q, clock: clock}
}

func (p *Postfix) Name() string { return "postfix" }

func (p *Postfix) MaxControlBytes() int {
	if p.Limits.MaxFileBytes > 0 {
		return int(p.Limits.MaxFileBytes)
	}
	return postfix.DefaultMaxFileBytes
}

// queue splits a queue dir (".../postfix/hold") into Postfix's queue
// directory and the queue's name.
func (p *Postfix) queue(dir string) (postfix.Queue, string) {
	q := p.Queue
	q.Dir = filepath.Dir(filepath.Clean(dir))
	return q, filepath.Base(dir)
}

// NewID makes a short queue ID, valid whatever enable_long_queue_ids says,
// from the time and a counter in place of cleanup's inode number: the
// generated messages (reports) and those whose ID is taken. Uniqueness is
// the link's (it never replaces a file; a taken ID is skipped).
func (p *Postfix) NewID() string {
	return postfix.ShortID(p.clock(), 0xF0000000+p.seq.Add(1)%0x0FFFFFFF)
}

// notReady is the set-aside reason of a queue file never made ready.
const notReady = "queue file never made ready (its writer, Postfix's cleanup, did not finish it)"

func (p *Postfix) List(dir string) ([]Entry, error) {
	q, name := p.queue(dir)
	es, err := q.List(name)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		// A file without the ready mode is still being written (or its
		// writer died): busy while young, set aside when old.
		out[i] = Entry{ID: e.ID, Files: []string{e.Path}, ModTime: e.ModTime, Size: e.Size}
		switch {
		case !e.Ready && e.Size == 0:
			out[i].Empty = true
		case !e.Ready:
			out[i].Missing = notReady
		}
	}
	return out, nil
}

func (p *Postfix) Lock(e Entry) (Claim, error) {
	if len(e.Files) != 1 {
		return nil, fmt.Errorf("postfix entry %s: want one queue file", e.ID)
	}
	lk, err := postfix.Lock(e.Files[0])
	switch {
	case errors.Is(err, postfix.ErrLocked), errors.Is(err, postfix.ErrNotReady):
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, postfix.ErrGone):
		return nil, fmt.Errorf("%w: %w", ErrVanished, err)
	case err != nil:
		return nil, err
	}
	return postfixClaim{lk}, nil
}

type postfixClaim struct{ lk *postfix.Locked }

func (c postfixClaim) Control() *os.File       { return c.lk.File }
func (c postfixClaim) Body() (*os.File, int64) { return nil, 0 }
func (c postfixClaim) Unlock()                 { c.lk.Unlock() }

// LostName: Postfix's own place for a queue file it cannot use is the
// corrupt queue, beside hold.
func (p *Postfix) LostName(e Entry) string {
	return filepath.Join("..", postfix.Corrupt, e.ID)
}

func (p *Postfix) Queued(dir, id string) bool {
	q, name := p.queue(dir)
	return queuedAt(q.Path(name, id))
}

func (p *Postfix) Watch(dir string) ([]string, func(string) bool) {
	dirs := []string{dir}
	subs, _ := filepath.Glob(filepath.Join(dir, "?"))
	return append(dirs, subs...), postfix.ValidID
}

func (p *Postfix) Parse(raw []byte) (Control, error) {
	f, err := postfix.Parse(bytes.NewReader(raw), p.Limits)
	if err != nil {
		return nil, err
	}
	return postfixControl{f}, nil
}

func (p *Postfix) New(rcpts []string, header []byte, t time.Time, body []byte) (Control, error) {
	o := postfix.NewOpts{Time: t}
	for _, r := range rcpts {
		o.Recipients = append(o.Recipients, postfix.NewRcpt{Addr: r})
	}
	f, err := postfix.NewFile(header, body, o)
	if err != nil {
		return nil, err
	}
	return postfixControl{f}, nil
}

func (p *Postfix) Out(dir string) OutQueue {
	q, name := p.queue(dir)
	return postfixOut{q: q, name: name}
}

// postfixControl is a Postfix queue file: envelope, header and body.
type postfixControl struct{ *postfix.File }

var _ InlineBody = postfixControl{}

func (c postfixControl) Envelope() message.Envelope {
	e := c.File.Envelope()
	env := message.Envelope{Sender: e.Sender, ClientHost: e.ClientName, Helo: e.Helo, Protocol: e.Protocol, Auth: e.SASLUsername != ""}
	if ip, err := netip.ParseAddr(strings.TrimPrefix(e.ClientAddr, "IPv6:")); err == nil {
		env.ClientIP = ip
	}
	for _, r := range e.Recipients {
		if r.State == postfix.RcptTodo {
			env.Recipients = append(env.Recipients, r.Addr)
		}
	}
	return env
}

func (c postfixControl) HeaderBlock() []byte { return c.File.Header() }

func (c postfixControl) Header(name string) (string, bool) {
	for _, f := range message.HeaderFields(c.File.Header()) {
		if f.Name != "" && strings.EqualFold(f.Name, name) {
			return f.Value(), true
		}
	}
	return "", false
}

func (c postfixControl) Edit(edits []message.HeaderEdit, atTop bool) error {
	if !atTop {
		return c.File.Edit(edits)
	}
	return c.File.SetHeader(message.EditHeaderTop(c.File.Header(), edits))
}

func (c postfixControl) Forward(addrs []string, only bool) error {
	var rs []postfix.NewRcpt
	if !only {
		for _, r := range c.File.Envelope().Recipients {
			if r.State == postfix.RcptTodo {
				rs = append(rs, postfix.NewRcpt{Addr: r.Addr, Orig: r.Orig, DSNOrcpt: r.DSNOrcpt, Notify: r.Notify})
			}
		}
	}
	for _, a := range addrs {
		rs = append(rs, postfix.NewRcpt{Addr: a})
	}
	return c.SetRecipients(rs)
}

// postfixOut writes the queue file complete under a temporary name at the
// top of the incoming queue (Postfix never opens it), published by a link
// to its queue ID's path.
type postfixOut struct {
	q    postfix.Queue
	name string
}

// Taken: in any queue but hold, where the message qscan moves out of it
// keeps the ID (as postsuper -H does); Postfix's IDs are unique over all
// its queues.
func (o postfixOut) Taken(id string) bool {
	if queuedAt(o.q.TempPath(o.name, id)) {
		return true
	}
	for _, queue := range []string{postfix.Incoming, postfix.Active, postfix.Deferred, postfix.Corrupt} {
		if queuedAt(o.q.Path(queue, id)) {
			return true
		}
	}
	return false
}
func (o postfixOut) Dirs() []string { return []string{filepath.Join(o.q.Dir, o.name)} }

func (o postfixOut) Files(id string) []OutFile {
	return []OutFile{{Tmp: o.q.TempPath(o.name, id), Final: o.q.Path(o.name, id)}}
}

func (o postfixOut) Write(id string, c Control, b Body) error {
	pc, ok := c.(postfixControl)
	if !ok {
		return fmt.Errorf("postfix queue: control file of %T", c)
	}
	if b.Data != nil && !bytes.Equal(b.Data, pc.Body()) {
		if err := pc.SetBody(bytes.NewReader(b.Data)); err != nil {
			return err
		}
	}
	return o.q.Stage(o.name, id, pc.Bytes())
}

// PostfixKicker wakes the queue manager (postkick public qmgr I), which
// then scans the incoming queue: one kick per batch, whatever its IDs.
type PostfixKicker struct{ postfix.Kicker }

func (k PostfixKicker) Program() string { return k.Postkick }
func (k PostfixKicker) MaxIDs() int     { return 1 << 30 }
func (k PostfixKicker) Kick(ctx context.Context, _ string, _ ...string) ([]byte, error) {
	return k.Kicker.Kick(ctx)
}

var (
	_ MTA    = (*Postfix)(nil)
	_ Kicker = PostfixKicker{}
)
