package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
)

// Exim is the MTA of Exim's spools (MailScanner's Exim layout): the
// incoming queue is the spool directory of a first Exim that only queues
// (its input/ holds <ID>-H and <ID>-D), the outgoing one the spool of the
// Exim that delivers. Split names the outgoing spool's
// split_spool_directory; the incoming ones are read in either layout.
type Exim struct {
	Limits exim.Limits
	Split  bool
	ids    *exim.IDGen
}

// NewExim returns the Exim MTA; IDs of generated messages come from clock.
func NewExim(l exim.Limits, split bool, clock func() time.Time) *Exim {
	if clock == nil {
		clock = time.Now
	}
	return &Exim{Limits: l, Split: split, ids: exim.NewIDGen(clock, os.Getpid(), 0)}
}

func (x *Exim) Name() string  { return "exim" }
func (x *Exim) NewID() string { return x.ids.Next() }

func (x *Exim) MaxControlBytes() int {
	if x.Limits.MaxHBytes > 0 {
		return int(x.Limits.MaxHBytes)
	}
	return exim.DefaultMaxHBytes
}

func (x *Exim) List(dir string) ([]Entry, error) {
	es, err := exim.List(dir)
	if err != nil {
		return nil, err
	}
	q := exim.Queue{Dir: dir}
	out := make([]Entry, len(es))
	for i, e := range es {
		// Released as Exim moves a message off its spool: the -H first,
		// then the -D, the -J journal and the message log.
		msglog := filepath.Join(q.Dir, "msglog", e.ID)
		if sub := filepath.Base(e.Dir); len(sub) == 1 && filepath.Dir(e.Dir) == filepath.Join(q.Dir, "input") {
			msglog = filepath.Join(q.Dir, "msglog", sub, e.ID)
		}
		out[i] = Entry{ID: e.ID, Files: []string{e.HPath, e.DPath, filepath.Join(e.Dir, e.ID+"-J"), msglog},
			ModTime: e.ModTime, Size: e.Size, Empty: e.Empty}
		if e.DMissing {
			out[i].Missing = "-H file without its -D (body) file"
		}
	}
	return out, nil
}

func (x *Exim) Lock(e Entry) (Claim, error) {
	if len(e.Files) < 2 {
		return nil, fmt.Errorf("exim entry %s: want -H and -D", e.ID)
	}
	lk, err := exim.Lock(e.ID, e.Files[0], e.Files[1])
	switch {
	case errors.Is(err, exim.ErrLocked):
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, exim.ErrGone):
		return nil, fmt.Errorf("%w: %w", ErrVanished, err)
	case err != nil:
		return nil, err
	}
	return eximClaim{lk}, nil
}

type eximClaim struct{ lk *exim.Locked }

func (c eximClaim) Control() *os.File       { return c.lk.H }
func (c eximClaim) Body() (*os.File, int64) { return c.lk.D, exim.DataOffset }
func (c eximClaim) Unlock()                 { c.lk.Unlock() }

// LostName: a -H renamed out of Exim's name pattern is read by neither.
func (x *Exim) LostName(e Entry) string { return e.ID + "-H.unreadable" }

// Watch: Exim renames hdr.<ID> to <ID>-H in input/ or, split, in
// input/<X>/ (those that exist when the daemon starts; the rescan finds
// the others).
func (x *Exim) Watch(dir string) ([]string, func(string) bool) {
	dirs := []string{filepath.Join(dir, "input")}
	subs, _ := filepath.Glob(filepath.Join(dir, "input", "?"))
	dirs = append(dirs, subs...)
	return dirs, func(name string) bool {
		return strings.HasSuffix(name, "-H") && exim.ValidID(strings.TrimSuffix(name, "-H"))
	}
}

func (x *Exim) Queued(dir, id string) bool { return exim.Queue{Dir: dir}.Taken(id) }

func (x *Exim) Parse(raw []byte) (Control, error) {
	h, err := exim.ParseH(bytes.NewReader(raw), x.Limits)
	if err != nil {
		return nil, err
	}
	return eximControl{h}, nil
}

func (x *Exim) New(rcpts []string, header []byte, t time.Time, body []byte) (Control, error) {
	h, err := exim.NewH("", exim.Rcpts(rcpts...), header, exim.NewOpts{Time: t, BodyLines: exim.CountLines(body)})
	if err != nil {
		return nil, err
	}
	return eximControl{h}, nil
}

func (x *Exim) Out(dir string) OutQueue {
	q, err := exim.OpenQueue(dir, x.Split)
	if err != nil {
		q = exim.Queue{Dir: dir, Split: x.Split, UID: -1, GID: -1}
	}
	return eximOut{q}
}

// eximControl is a -H file.
type eximControl struct{ *exim.H }

func (c eximControl) Envelope() message.Envelope {
	cl := c.Client()
	env := message.Envelope{Sender: c.Sender(), ClientHost: cl.Name, Helo: cl.Helo, Protocol: cl.Protocol, Auth: cl.AuthID != ""}
	if cl.Addr.IsValid() {
		env.ClientIP = cl.Addr.Addr()
	}
	for _, r := range c.Recipients() {
		env.Recipients = append(env.Recipients, r.Address)
	}
	return env
}

func (c eximControl) Forward(addrs []string, only bool) error {
	var rs []exim.Recipient
	if !only {
		rs = append(rs, c.Recipients()...)
	}
	rs = append(rs, exim.Rcpts(addrs...)...)
	return c.SetRecipients(rs)
}

// eximOut writes <ID>-D (a hard link of the incoming -D when the body is
// unchanged and the ID the same: its first line names the ID) and
// hdr.<ID>, published as <ID>-H, Exim's own write order.
type eximOut struct{ q exim.Queue }

func (o eximOut) Taken(id string) bool { return o.q.Taken(id) }

func (o eximOut) Dirs() []string {
	dirs := []string{filepath.Join(o.q.Dir, "input")}
	if o.q.Split {
		subs, _ := filepath.Glob(filepath.Join(o.q.Dir, "input", "?"))
		dirs = append(dirs, subs...)
	}
	return dirs
}

func (o eximOut) Files(id string) []OutFile {
	return []OutFile{{Final: o.q.DPath(id)}, {Tmp: o.q.TempHPath(id), Final: o.q.HPath(id)}}
}

func (o eximOut) Write(id string, c Control, b Body) error {
	ec, ok := c.(eximControl)
	if !ok {
		return fmt.Errorf("exim spool: control file of %T", c)
	}
	if ec.ID() != id {
		if err := ec.SetID(id); err != nil {
			return err
		}
	}
	if err := o.q.MakeInputDir(id); err != nil {
		return err
	}
	if err := o.writeData(id, ec, b); err != nil {
		return err
	}
	if err := o.q.WriteTempH(id, ec.Bytes()); err != nil {
		os.Remove(o.q.DPath(id))
		return err
	}
	return nil
}

// writeData makes <ID>-D: a link of the checked incoming -D when it can
// be (same ID, body unchanged), else a new file from the body.
func (o eximOut) writeData(id string, ec eximControl, b Body) error {
	if b.Data == nil && b.File != nil && hasPrefix(b.File, exim.DataPrefix(id)) {
		_, err := safeio.LinkFile(b.File, o.q.DPath(id), b.Stamp, exim.SpoolMode)
		return err
	}
	var body io.Reader
	if b.Data != nil {
		body = bytes.NewReader(b.Data)
		if err := ec.SetBodyLines(exim.CountLines(b.Data)); err != nil {
			return err
		}
	} else {
		if b.File == nil {
			return fmt.Errorf("write %s-D: the checked -D is not open", id)
		}
		st, err := b.File.Stat()
		if err != nil {
			return err
		}
		if now, err := safeio.StampOf(b.File); err != nil || now != b.Stamp {
			return fmt.Errorf("write %s-D: %w", id, safeio.ErrChanged)
		}
		body = io.NewSectionReader(b.File, b.Offset, st.Size()-b.Offset)
	}
	f, err := o.q.CreateData(id, body)
	if err != nil {
		return err
	}
	return f.Close() // the lock goes with it: the -H is not there yet
}

// hasPrefix reports whether f starts with p.
func hasPrefix(f *os.File, p []byte) bool {
	buf := make([]byte, len(p))
	n, _ := f.ReadAt(buf, 0)
	return n == len(p) && bytes.Equal(buf, p)
}

// EximKicker runs the outgoing Exim on message IDs (exim -M).
type EximKicker struct{ exim.Kicker }

func (k EximKicker) Program() string { return k.Exim }
func (k EximKicker) MaxIDs() int     { return exim.MaxKickIDs }
func (k EximKicker) Kick(ctx context.Context, _ string, ids ...string) ([]byte, error) {
	return k.Kicker.Kick(ctx, ids...)
}

var (
	_ MTA    = (*Exim)(nil)
	_ Kicker = EximKicker{}
)
