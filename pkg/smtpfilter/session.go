package smtpfilter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/pkg/spool"
)

// backend makes one session per connection.
type backend struct {
	s        *Server
	listener string
	lmtp     bool
}

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	fc, ok := c.Conn().(*conn)
	if !ok {
		return nil, errors.New("smtp filter: connection not accepted through its listener")
	}
	return &session{s: b.s, listener: b.listener, c: c, fc: fc}, nil
}

// session is one SMTP/LMTP connection's transactions.
type session struct {
	s        *Server
	listener string
	c        *smtp.Conn
	fc       *conn
	tx       *spool.Envelope // nil outside a transaction
}

var (
	errNotAccepting = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Not accepting mail at the moment, try again later"}
	errSpool        = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Error writing the message to the spool, try again later"}
	errDataTimeout  = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Timeout reading the message"}
	errBadSender    = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 7}, Message: "Bad sender address or parameter"}
	errNestedMail   = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Error: nested MAIL command"}
	errBadRcpt      = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address or parameter"}
)

func (s *session) Mail(from string, o *smtp.MailOptions) error {
	if s.tx != nil {
		return errNestedMail
	}
	if s.s.o.Accepting != nil {
		if err := s.s.o.Accepting(); err != nil {
			s.s.o.Log.WithError(err).Warn("smtp filter: MAIL answered 451 4.3.0 (back-pressure)")
			return errNotAccepting
		}
	}
	if spool.CheckValue(from) != nil || spool.CheckValue(o.EnvelopeID) != nil {
		return errBadSender
	}
	s.tx = &spool.Envelope{Sender: from, Return: string(o.Return), EnvID: o.EnvelopeID, Size: o.Size,
		Body: string(o.Body), SMTPUTF8: o.UTF8}
	s.fc.st.mu.Lock()
	s.fc.st.inTx = true
	s.fc.st.mu.Unlock()
	return nil
}

func (s *session) Rcpt(to string, o *smtp.RcptOptions) error {
	if to == "" || spool.CheckValue(to) != nil || spool.CheckValue(o.OriginalRecipient) != nil {
		return errBadRcpt
	}
	r := spool.Recipient{Addr: to, ORcptType: string(o.OriginalRecipientType), ORcpt: o.OriginalRecipient}
	if r.ORcpt == "" {
		r.ORcptType = ""
	}
	if len(o.Notify) > 0 {
		for _, n := range o.Notify {
			r.Notify = append(r.Notify, string(n))
		}
	}
	s.tx.Recipients = append(s.tx.Recipients, r)
	return nil
}

// Data spools the message and answers 250 once it is durable.
func (s *session) Data(r io.Reader) error {
	env := s.tx
	env.Received = s.s.o.Clock().UTC()
	env.Listener = s.listener
	env.Client = s.fc.RemoteAddr().String()
	env.Helo = s.c.Hostname()
	s.fc.st.mu.Lock()
	env.Protocol = s.fc.st.protocol
	env.XForward = s.fc.st.xf
	s.fc.st.mu.Unlock()
	if env.Protocol == "" {
		env.Protocol = "ESMTP"
	}
	// The HELO name and a unix peer's name are not checked by go-smtp.
	env.Helo = safeText(env.Helo[:min(len(env.Helo), 255)])
	env.Client = safeText(env.Client[:min(len(env.Client), 255)])
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	id, n, err := s.s.o.Spool.Publish(s.s.o.IDs, env, &lfReader{br: br})
	br.Reset(nil)
	readers.Put(br)
	if err != nil {
		return s.dataError(env, err)
	}
	s.s.o.Log.WithFields(map[string]any{"id": id, "from": "<" + env.Sender + ">", "to": rcptList(env), "size": n,
		"client": env.XForward.Addr, "helo": env.XForward.Helo}).Info("smtp filter: queued")
	if s.s.o.Queued != nil {
		s.s.o.Queued(id, env)
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + id}
}

// dataError maps a failed Publish to the reply.
func (s *session) dataError(env *spool.Envelope, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		return smtp.ErrDataTooLarge
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		s.s.o.Log.WithField("from", "<"+env.Sender+">").Warn("smtp filter: data timeout")
		return errDataTimeout
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("connection lost during DATA: %w", err)
	}
	s.s.o.Log.WithError(err).Error("smtp filter: spool write failed")
	return errSpool
}

// LMTPData spools the message once and gives every recipient the result.
func (s *session) LMTPData(r io.Reader, _ smtp.StatusCollector) error {
	return s.Data(r)
}

func (s *session) Reset() {
	s.tx = nil
	s.fc.st.reset()
}

func (s *session) Logout() error { return nil }

func rcptList(env *spool.Envelope) string {
	var b strings.Builder
	for i, r := range env.Recipients {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == 10 {
			fmt.Fprintf(&b, "...(%d)", len(env.Recipients))
			break
		}
		b.WriteString("<" + r.Addr + ">")
	}
	return b.String()
}

// readers are the DATA readers of the sessions: a 32 KiB buffer each,
// used again rather than made for every message.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// lfReader turns CRLF into LF (a lone CR stays), as sendmail stores a df.
type lfReader struct{ br *bufio.Reader }

func (l *lfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if n > 0 && l.br.Buffered() == 0 {
			break // do not block with bytes in hand
		}
		c, err := l.br.ReadByte()
		if err != nil {
			return n, err
		}
		if c == '\r' {
			if next, err := l.br.Peek(1); err == nil && next[0] == '\n' {
				continue
			}
		}
		p[n] = c
		n++
	}
	return n, nil
}
