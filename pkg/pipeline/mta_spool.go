package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/spool"
)

// Spool is the MTA of qscan's own SMTP content filter (pkg/spool): the
// incoming queue is the spool the front end (pkg/smtpfilter) writes, one
// file ef<ID> per message (the envelope, then the whole message), or for
// an entry of format 1 the envelope in ef<ID> and the message in mf<ID>.
// The control is the envelope (ControlReader reads it from the head of the
// file); the header lives in the message, and the claim completes the
// control from it (Completer). There is no outgoing queue: the pipeline
// re-injects each message over SMTP (Options.Reinject, deliver.go).
type Spool struct {
	Limits spool.Limits
	// MaxHeaderBytes bounds the header block of a spooled message; default
	// DefaultSpoolMaxHeader.
	MaxHeaderBytes int
	ids            spool.IDSource
}

// DefaultSpoolMaxHeader bounds a spooled message's header block.
const DefaultSpoolMaxHeader = 4 << 20

// NewSpool returns the spool MTA; IDs of generated messages come from ids.
func NewSpool(l spool.Limits, ids spool.IDSource) *Spool {
	return &Spool{Limits: l, MaxHeaderBytes: DefaultSpoolMaxHeader, ids: ids}
}

func (s *Spool) Name() string  { return "spool" }
func (s *Spool) NewID() string { return s.ids.Next() }

func (s *Spool) MaxControlBytes() int {
	if s.Limits.MaxBytes > 0 {
		return int(s.Limits.MaxBytes)
	}
	return 8 << 20
}

func (s *Spool) List(dir string) ([]Entry, error) {
	es, err := spool.Spool{Dir: dir}.List()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{ID: e.ID, Files: []string{e.EnvPath}, ModTime: e.ModTime, Size: e.Size}
		if e.DataPath != "" {
			out[i].Files = append(out[i].Files, e.DataPath)
		}
	}
	return out, nil
}

func (s *Spool) Lock(e Entry) (Claim, error) {
	lk, err := lockSpool(e.ID, e.Files)
	switch {
	case errors.Is(err, spool.ErrLocked):
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, spool.ErrGone):
		return nil, fmt.Errorf("%w: %w", ErrVanished, err)
	case err != nil:
		return nil, err
	}
	return &spoolClaim{lk: lk, dir: filepath.Dir(e.Files[0]), id: e.ID, max: s.maxHeader(), lim: s.Limits}, nil
}

// lockSpool locks a spool entry from its files: ef<ID> alone, or ef<ID>
// and mf<ID> for format 1.
func lockSpool(id string, files []string) (*spool.Locked, error) {
	switch len(files) {
	case 1:
		return spool.Lock(files[0], "")
	case 2:
		return spool.Lock(files[0], files[1])
	}
	return nil, fmt.Errorf("spool entry %s: want ef<ID> and at most mf<ID>, have %d files", id, len(files))
}

func (s *Spool) maxHeader() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultSpoolMaxHeader
}

// LostName: "Ef<ID>" is read by neither the front end nor qscan.
func (s *Spool) LostName(e Entry) string { return "Ef" + e.ID }

func (s *Spool) Queued(dir, id string) bool { return spool.Spool{Dir: dir}.Taken(id) }

func (s *Spool) Watch(dir string) ([]string, func(string) bool) {
	return []string{dir}, func(name string) bool { return strings.HasPrefix(name, "ef") && spool.ValidID(name[2:]) }
}

func (s *Spool) Parse(raw []byte) (Control, error) {
	env, err := spool.ParseEnvelope(bytes.NewReader(raw), s.Limits)
	if err != nil {
		return nil, err
	}
	return &SpoolControl{Env: env}, nil
}

// New makes the control of a message qscan writes itself (a report, a
// DSN): from the null sender, its header given.
func (s *Spool) New(rcpts []string, header []byte, t time.Time, _ []byte) (Control, error) {
	env := &spool.Envelope{Received: t.UTC(), Protocol: "ESMTP", Listener: GeneratedListener}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, spool.Recipient{Addr: r})
	}
	if _, err := env.Bytes(); err != nil {
		return nil, err
	}
	return &SpoolControl{Env: env, Hdr: bytes.Clone(header)}, nil
}

// GeneratedListener marks the envelope of a message qscan wrote itself
// (a report, a DSN) when it had to be spooled for a later try.
const GeneratedListener = "qscan"

// Out: the filter has no outgoing queue (checked mail is re-injected);
// Out of the spool directory stages the messages qscan writes itself.
func (s *Spool) Out(dir string) OutQueue { return spoolOut{dir: dir} }

// spoolClaim is a locked spool entry. Its body offset is known once
// Complete has read the header from the message.
type spoolClaim struct {
	lk     *spool.Locked
	dir    string
	id     string
	max    int
	lim    spool.Limits
	hdrLen int64 // the header block and its empty line
	whole  bool  // ReadControl found the envelope and its message
}

func (c *spoolClaim) Control() *os.File       { return c.lk.Env }
func (c *spoolClaim) Body() (*os.File, int64) { return c.lk.Data, c.lk.Start() + c.hdrLen }
func (c *spoolClaim) Unlock()                 { c.lk.Unlock() }

// ReadControl is the envelope at the head of the entry (in the form
// Parse reads), not the whole file.
func (c *spoolClaim) ReadControl(limit int) ([]byte, error) {
	lim := c.lim
	lim.MaxBytes = int64(limit)
	head, ok, err := c.lk.Head(lim)
	c.whole = ok
	return head, err
}

// Completer is a Claim whose control holds the envelope only (the spool's
// ef<ID>): Complete reads the header from the message into ctl and sets
// where the body starts (Body's offset).
type Completer interface {
	Complete(ctl Control) error
}

// Complete reads the header block of the message: everything up to the
// first empty line, at most max bytes.
func (c *spoolClaim) Complete(ctl Control) error {
	sc, ok := ctl.(*SpoolControl)
	if !ok {
		return fmt.Errorf("spool entry %s: control of %T", c.id, ctl)
	}
	if !c.whole {
		return fmt.Errorf("spool entry %s: envelope without its message", c.id)
	}
	hdr, off, err := readSpoolHeader(c.lk.Data, c.lk.Start(), c.max)
	if err != nil {
		return fmt.Errorf("spool entry %s: %w", c.id, err)
	}
	sc.Hdr, c.hdrLen = hdr, off
	return nil
}

// message reads the whole message (header and body) as it was received.
func (c *spoolClaim) message() ([]byte, error) {
	st, err := c.lk.Data.Stat()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.NewSectionReader(c.lk.Data, c.lk.Start(), st.Size()-c.lk.Start()))
}

// readSpoolHeader returns the header block of the message that starts at
// base in f (each line with its LF, without the empty line) and the
// offset of the body from base. A message without an empty line is all
// header.
func readSpoolHeader(f io.ReaderAt, base int64, limit int) ([]byte, int64, error) {
	// Most headers are a few KiB: the buffer starts small and grows.
	buf := make([]byte, 0, min(limit+1, 4<<10))
	r := io.NewSectionReader(f, base, int64(limit)+1)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), limit+1-len(buf)))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		start := max(len(buf)-1, 0)
		buf = buf[:len(buf)+n]
		if len(buf) > 0 && buf[0] == '\n' {
			return []byte{}, 1, nil
		}
		if i := bytes.Index(buf[start:], []byte("\n\n")); i >= 0 {
			end := start + i + 1
			if end > limit {
				return nil, 0, fmt.Errorf("header over %d bytes", limit)
			}
			return buf[:end:end], int64(end + 1), nil
		}
		if err == io.EOF {
			if len(buf) > limit {
				return nil, 0, fmt.Errorf("header over %d bytes", limit)
			}
			if len(buf) > 0 && buf[len(buf)-1] != '\n' {
				buf = append(buf, '\n')
				return buf, int64(len(buf) - 1), nil
			}
			return buf, int64(len(buf)), nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// SpoolControl is a spool envelope and the header of its message.
type SpoolControl struct {
	Env *spool.Envelope
	Hdr []byte
}

func (c *SpoolControl) HeaderBlock() []byte { return c.Hdr }

func (c *SpoolControl) Header(name string) (string, bool) {
	for _, f := range message.HeaderFields(c.Hdr) {
		if f.Name != "" && strings.EqualFold(f.Name, name) {
			return f.Value(), true
		}
	}
	return "", false
}

// Edit makes the header edits on the header block (message.EditHeader);
// with atTop, added fields go before the others.
func (c *SpoolControl) Edit(edits []message.HeaderEdit, atTop bool) error {
	if !atTop {
		c.Hdr = message.EditHeader(c.Hdr, edits)
		return nil
	}
	for _, e := range edits {
		if e.Op == message.HeaderAdd {
			line := message.EditHeader(nil, []message.HeaderEdit{e})
			c.Hdr = append(line, c.Hdr...)
			continue
		}
		c.Hdr = message.EditHeader(c.Hdr, []message.HeaderEdit{e})
	}
	return nil
}

func (c *SpoolControl) Forward(addrs []string, only bool) error {
	var rs []spool.Recipient
	if !only {
		rs = append(rs, c.Env.Recipients...)
	}
	for _, a := range addrs {
		if err := spool.CheckValue(a); err != nil || a == "" {
			return fmt.Errorf("forward to %q: not an address", a)
		}
		rs = append(rs, spool.Recipient{Addr: a})
	}
	c.Env.Recipients = rs
	return nil
}

// Envelope is the spool envelope as the checks see it: the original
// client from XFORWARD (the MTA in front of qscan said who sent the
// message to it), else only what qscan's own client said.
func (c *SpoolControl) Envelope() message.Envelope {
	x := c.Env.XForward
	env := message.Envelope{Sender: c.Env.Sender, ClientHost: known(x.Name), Helo: known(x.Helo), Protocol: known(x.Proto)}
	if a, err := netip.ParseAddr(strings.TrimPrefix(known(x.Addr), "IPv6:")); err == nil {
		env.ClientIP = a
	}
	if env.Protocol == "" {
		env.Protocol = c.Env.Protocol
	}
	env.Auth = known(x.Login) != ""
	for _, r := range c.Env.Recipients {
		env.Recipients = append(env.Recipients, r.Addr)
	}
	return env
}

// known drops Postfix's "[UNAVAILABLE]" and "[TEMPUNAVAIL]".
func known(v string) string {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") && strings.ToUpper(v) == v {
		return ""
	}
	return v
}

// keepRecipients returns a copy of env with only the recipients named in
// left (in their order in env).
func keepRecipients(env *spool.Envelope, left []string) *spool.Envelope {
	n := *env
	n.Recipients = slices.DeleteFunc(slices.Clone(env.Recipients), func(r spool.Recipient) bool { return !slices.Contains(left, r.Addr) })
	return &n
}

// spoolOut is the spool itself as the queue of the messages qscan writes
// (reports, notices): staged there before a re-injected batch's prepare
// record, published by it, and sent with a later batch like any spooled
// message. The filter has no outgoing queue for checked mail (it is
// re-injected), so Out("") has no directory and writes nothing.
type spoolOut struct{ dir string }

var errNoOutQueue = errors.New("the SMTP filter's spool has no outgoing queue: messages are re-injected over SMTP")

func (o spoolOut) Taken(id string) bool {
	return o.dir != "" && spool.Spool{Dir: o.dir}.Taken(id)
}

// Files: the entry staged under a temporary name that keeps its ID taken
// (the front end skips it) and linked to ef<ID>, the commit marker of the
// spool.
func (o spoolOut) Files(id string) []OutFile {
	if o.dir == "" {
		return nil
	}
	s := spool.Spool{Dir: o.dir}
	return []OutFile{{Tmp: s.StagedPath(id), Final: s.EnvPath(id)}}
}

func (o spoolOut) Write(id string, c Control, b Body) error {
	sc, ok := c.(*SpoolControl)
	if o.dir == "" || !ok || b.Data == nil {
		return errNoOutQueue
	}
	head, err := sc.Env.EntryBytes()
	if err != nil {
		return fmt.Errorf("spool envelope of %s: %w", id, err)
	}
	data := make([]byte, 0, len(head)+len(sc.Hdr)+1+len(b.Data))
	data = append(append(append(append(data, head...), sc.Hdr...), '\n'), b.Data...)
	_, err = safeio.CreateNew(o.Files(id)[0].Tmp, bytes.NewReader(data), 0o600)
	return err
}

func (o spoolOut) Dirs() []string {
	if o.dir == "" {
		return nil
	}
	return []string{o.dir}
}

func (c *SpoolControl) String() string { return "spool envelope" }
func (c *spoolClaim) replace(env *spool.Envelope) error {
	return spool.Spool{Dir: c.dir}.ReplaceEnvelope(c.lk, c.id, env)
}

var (
	_ MTA       = (*Spool)(nil)
	_ Completer = (*spoolClaim)(nil)
)

// SpoolReleaser re-injects quarantined spool messages (quarantine
// ReleaseOptions.Publish for the SMTP filter): the quarantined envelope
// and whole message, the recipients replaced when to is set and the
// header field header set to value, sent downstream without being checked
// again (as a release into an outgoing queue is not).
type SpoolReleaser struct {
	Send Sender
	IDs  spool.IDSource
}

// Release sends the message; it returns a new ID (for the log) and the
// recipients it went to.
func (r SpoolReleaser) Release(ctl, data []byte, to []string, header, value string) (string, []string, error) {
	env, err := spool.ParseEnvelope(bytes.NewReader(ctl), spool.Limits{})
	if err != nil {
		return "", nil, err
	}
	c := &SpoolControl{Env: env}
	if len(to) > 0 {
		if err := c.Forward(to, true); err != nil {
			return "", nil, err
		}
	}
	hdr, body := data, []byte(nil)
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		hdr, body = data[:i+1], data[i+2:]
	} else if len(data) > 0 && data[0] == '\n' {
		hdr, body = nil, data[1:]
	}
	c.Hdr = message.EditHeader(hdr, []message.HeaderEdit{{Op: message.HeaderReplace, Name: header, Value: value}})
	out := append(append(bytes.Clone(c.Hdr), '\n'), body...)
	res, err := r.Send.Send(context.Background(), reinject.Message{Env: c.Env, Data: bytes.NewReader(out), Size: smtpSize(out)})
	if err != nil {
		return "", nil, err
	}
	if len(res.Accepted) == 0 {
		return "", nil, fmt.Errorf("release refused downstream: %s", firstReply(res))
	}
	var got []string
	for _, a := range res.Accepted {
		got = append(got, a.Recipient.Addr)
	}
	return r.IDs.Next(), got, nil
}

func firstReply(res *reinject.Result) string {
	for _, l := range [][]reinject.RcptResult{res.Rejected, res.Deferred} {
		if len(l) > 0 {
			return l[0].Reply.String()
		}
	}
	return res.Data.String()
}
