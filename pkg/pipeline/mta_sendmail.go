package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// Sendmail is the MTA of sendmail's queues (qf/df, flat or nested), the
// pipeline's default.
type Sendmail struct {
	Limits sendmail.Limits
	ids    *sendmail.IDGen
	// lock is sendmail.Lock; tests fail it.
	lock func(qf, df string) (*sendmail.Locked, error)
}

// NewSendmail returns the sendmail MTA with the qf limits l (zero:
// defaults); IDs of generated messages come from clock.
func NewSendmail(l sendmail.Limits, clock func() time.Time) *Sendmail {
	if l.MaxQfBytes <= 0 {
		l.MaxQfBytes = sendmail.DefaultMaxQfBytes
	}
	if clock == nil {
		clock = time.Now
	}
	return &Sendmail{Limits: l, ids: sendmail.NewIDGen(clock, os.Getpid(), rand.IntN(3600)), lock: sendmail.Lock}
}

func (s *Sendmail) Name() string         { return "sendmail" }
func (s *Sendmail) MaxControlBytes() int { return int(s.Limits.MaxQfBytes) }
func (s *Sendmail) NewID() string        { return s.ids.Next() }

func (s *Sendmail) List(dir string) ([]Entry, error) {
	es, err := sendmail.List(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{ID: e.ID, Files: []string{e.QfPath, e.DfPath}, ModTime: e.ModTime, Size: e.Size, Empty: e.Empty}
		if e.DfMissing {
			out[i].Missing = "queue file without its df (body) file"
		}
	}
	return out, nil
}

func (s *Sendmail) Lock(e Entry) (Claim, error) {
	if len(e.Files) != 2 {
		return nil, fmt.Errorf("sendmail entry %s: want qf and df, have %d files", e.ID, len(e.Files))
	}
	lk, err := s.lock(e.Files[0], e.Files[1])
	switch {
	case errors.Is(err, sendmail.ErrLocked):
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, sendmail.ErrGone):
		return nil, fmt.Errorf("%w: %w", ErrVanished, err)
	case err != nil:
		return nil, err
	}
	return sendmailClaim{lk}, nil
}

type sendmailClaim struct{ lk *sendmail.Locked }

func (c sendmailClaim) Control() *os.File             { return c.lk.Qf }
func (c sendmailClaim) Body() (*os.File, int64)       { return c.lk.Df, 0 }
func (c sendmailClaim) Unlock()                       { c.lk.Unlock() }
func (s *Sendmail) LostName(e Entry) string           { return LostPrefix + e.ID }
func (s *Sendmail) Queued(dir, id string) bool        { return queuedAt(sendmailQueue(dir).QfPath(id)) }
func (s *Sendmail) Out(dir string) OutQueue           { return sendmailOut{sendmailQueue(dir)} }
func (s *Sendmail) Parse(raw []byte) (Control, error) { return s.parse(raw) }

func (s *Sendmail) parse(raw []byte) (sendmailControl, error) {
	qf, err := sendmail.ParseQf(bytes.NewReader(raw), s.Limits)
	if err != nil {
		return sendmailControl{}, err
	}
	return sendmailControl{qf}, nil
}

func (s *Sendmail) New(rcpts []string, header []byte, t time.Time, body []byte) (Control, error) {
	qf, err := sendmail.NewQf("", rcpts, header, sendmail.NewOpts{
		Time: t, BodySize: int64(len(body)), EightBit: bytes.ContainsFunc(body, func(r rune) bool { return r >= 0x80 }),
	})
	if err != nil {
		return nil, err
	}
	return sendmailControl{qf}, nil
}

func (s *Sendmail) Watch(dir string) ([]string, func(string) bool) {
	return []string{dir, filepath.Join(dir, "qf")}, func(name string) bool { return strings.HasPrefix(name, "qf") }
}

// queuedAt reports whether path may exist (an error other than "does not
// exist" counts as yes).
func queuedAt(path string) bool {
	_, err := os.Lstat(path)
	return !os.IsNotExist(err)
}

// sendmailQueue opens dir in its present layout; if it cannot be looked
// at, the flat layout (writing will then fail and say why).
func sendmailQueue(dir string) sendmail.Queue {
	q, err := sendmail.OpenQueue(dir)
	if err != nil {
		return sendmail.Queue{Dir: dir}
	}
	return q
}

// sendmailControl is a qf.
type sendmailControl struct{ *sendmail.Qf }

func (c sendmailControl) Envelope() message.Envelope { return envelopeOf(c.Qf) }

func (c sendmailControl) Forward(addrs []string, only bool) error {
	if only {
		for _, r := range c.Recipients() {
			c.RemoveRecipient(r.Addr)
		}
	}
	for _, a := range addrs {
		if err := c.AddRecipient(a); err != nil {
			return fmt.Errorf("forward to %s: %w", a, err)
		}
	}
	return nil
}

// envelopeOf reads the envelope of a message from its queue file.
func envelopeOf(qf *sendmail.Qf) message.Envelope {
	env := message.Envelope{
		Sender:     qf.Sender(),
		ClientIP:   qf.ClientIP(),
		ClientHost: qf.ClientHost(),
		Helo:       qf.Helo(),
		Protocol:   qf.Protocol(),
		Auth:       qf.Authenticated(),
	}
	for _, r := range qf.Recipients() {
		env.Recipients = append(env.Recipients, r.Addr)
	}
	return env
}

// sendmailOut writes df<ID> (a hard link when the body is unchanged) and
// tf<ID>, published as qf<ID>: sendmail ignores tf files, and a df
// without its qf.
type sendmailOut struct{ q sendmail.Queue }

func (o sendmailOut) Taken(id string) bool { return o.q.Taken(id) }
func (o sendmailOut) Dirs() []string       { return o.q.Dirs() }

func (o sendmailOut) Files(id string) []OutFile {
	return []OutFile{{Final: o.q.DfPath(id)}, {Tmp: o.q.TfPath(id), Final: o.q.QfPath(id)}}
}

func (o sendmailOut) Write(id string, c Control, b Body) error {
	qf, ok := c.(sendmailControl)
	if !ok {
		return fmt.Errorf("sendmail queue: control file of %T", c)
	}
	df := o.q.DfPath(id)
	if b.Data == nil {
		// The very file that was read and checked, not its path again.
		if b.File == nil || b.Offset != 0 {
			return fmt.Errorf("link df%s: the checked df is not open", id)
		}
		if _, err := safeio.LinkFile(b.File, df, b.Stamp, 0o600); err != nil {
			return err
		}
	} else if _, err := safeio.CreateNew(df, bytes.NewReader(b.Data), 0o600); err != nil {
		return err
	}
	if _, err := safeio.CreateNew(o.q.TfPath(id), bytes.NewReader(qf.Bytes()), 0o600); err != nil {
		os.Remove(df)
		return err
	}
	return nil
}

// SendmailKicker runs the outgoing sendmail on queue IDs (-qI<ID>).
type SendmailKicker struct{ sendmail.Kicker }

func (k SendmailKicker) Program() string { return k.Sendmail }
func (k SendmailKicker) MaxIDs() int     { return sendmail.MaxKickIDs }
func (k SendmailKicker) Kick(ctx context.Context, dir string, ids ...string) ([]byte, error) {
	return k.Kicker.Kick(ctx, dir, ids...)
}

var (
	_ MTA    = (*Sendmail)(nil)
	_ Kicker = SendmailKicker{}
)
