package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/sendmail"
)

// maxFileHeader bounds the header CheckFile takes an envelope and a queue
// file from: a larger one is not a real header (the checks will say so),
// and is not copied.
const maxFileHeader = 1 << 20

// File is a message file checked as the queue path checks a queued
// message (`qscan scan`).
type File struct {
	Message *message.Message // as checked: reports, parts, spam result
	Result  Result
	// The message as qscan would deliver it (see WriteDelivered).
	header, body []byte // nil: kept back
	crlf         bool   // the file's lines end in CRLF: so do the header's
	err          error  // why there is no delivered message
}

// CheckFile checks the message file raw as the queue path checks a queued
// message: the header goes into a queue file as sendmail stores it, the
// body is the df (its bytes as they are), the envelope comes from From:
// and To:, and the checker makes on that queue file the changes the
// pipeline makes on the outgoing one. An error means the checks could not
// be done.
func (c *Checker) CheckFile(ctx context.Context, raw []byte, now time.Time) (File, error) {
	header, body := splitFile(raw)
	m := &message.Message{ID: "scan", Body: body, Size: int64(len(raw)), Received: now}
	m.Envelope = headerEnvelope(header)
	qf, qerr := fileQf(m, header)
	f := File{Message: m, crlf: bytes.HasSuffix(firstLine(raw), []byte("\r\n")), err: qerr}
	var ctl Control // nil, not a nil *Qf in an interface: the verdict only
	if qf != nil {
		m.Header = qf.HeaderBlock()
		ctl = sendmailControl{qf}
	} else {
		// No queue file (a header sendmail would not have taken): check the
		// header as sendmail would store it all the same.
		m.Header = bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n"))
	}
	v, err := c.Check(ctx, m, ctl)
	f.Result = v
	if err != nil {
		f.err = err
		return f, err
	}
	f.header, f.body = v.Header, v.Body
	return f, nil
}

// headerEnvelope takes the envelope of a file from its From: and To:.
func headerEnvelope(header []byte) message.Envelope {
	var env message.Envelope
	if len(header) > maxFileHeader {
		return env
	}
	h, err := mail.ReadMessage(bytes.NewReader(append(bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n")), '\n')))
	if err != nil {
		return env
	}
	if a, err := mail.ParseAddress(h.Header.Get("From")); err == nil {
		env.Sender = a.Address
	}
	if as, err := h.Header.AddressList("To"); err == nil {
		for _, a := range as {
			env.Recipients = append(env.Recipients, a.Address)
		}
	}
	return env
}

// fileQf builds the queue file sendmail would write for m with header.
// Its envelope only carries the header: the checks take m.Envelope.
func fileQf(m *message.Message, header []byte) (*sendmail.Qf, error) {
	if len(header) > maxFileHeader {
		return nil, fmt.Errorf("the message cannot be written as a queue file: header larger than %d bytes", maxFileHeader)
	}
	rcpts := m.Envelope.Recipients
	if len(rcpts) == 0 {
		rcpts = []string{"postmaster"}
	}
	qf, err := sendmail.NewQf(m.Envelope.Sender, rcpts, header, sendmail.NewOpts{
		Time: m.Received, BodySize: int64(len(m.Body)), MaxHeaderBytes: max(len(header), sendmail.DefaultMaxHeaderBytes),
		EightBit: bytes.ContainsFunc(m.Body, func(r rune) bool { return r >= 0x80 }),
	})
	if err != nil {
		return nil, fmt.Errorf("the message cannot be written as a queue file: %w", err)
	}
	return qf, nil
}

// WriteDelivered writes the message as qscan would deliver it to path:
// the header as sendmail delivers it from the outgoing queue file, with
// the file's line ends, and the body as the outgoing df holds it. A
// message kept back writes nothing.
func (f File) WriteDelivered(path string) error {
	if f.err != nil {
		return f.err
	}
	if f.header == nil {
		return nil
	}
	header, nl := f.header, []byte("\n")
	if f.crlf {
		header, nl = bytes.ReplaceAll(header, nl, []byte("\r\n")), []byte("\r\n")
	}
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	for _, b := range [][]byte{header, nl, f.body} {
		if _, err := w.Write(b); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// splitFile splits a message file at its first empty line (LF or CRLF),
// keeping the bytes of both sides: the header with its last line end, the
// body after the empty line.
func splitFile(raw []byte) (header, body []byte) {
	for off := 0; off < len(raw); {
		line := firstLine(raw[off:])
		if len(line) <= 2 && (string(line) == "\n" || string(line) == "\r\n") {
			return raw[:off], raw[off+len(line):]
		}
		off += len(line)
	}
	return raw, nil
}

// firstLine returns b up to and including its first LF (all of b if none).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}
