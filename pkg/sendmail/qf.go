// Package sendmail reads and writes sendmail 8.x queue files (qf/df), lists
// and locks queue directories, and makes sendmail-style queue IDs.
//
// A qf file is bytes, not text: header values hold sendmail's internal
// metacharacters (the 0x81 of "Return-Path: <\201g>") and 8-bit data quoted
// with 0xFF. The parser therefore works on bytes, never validates UTF-8, and
// keeps every line it does not interpret verbatim and in order, so that
// writing back an unchanged Qf gives the identical bytes.
//
// The package does no durable writes of its own: Qf.Bytes, Qf.WriteTo and
// WriteDf hand bytes to the caller, who writes them safely.
package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrTruncated      = errors.New("sendmail: qf has no terminating \".\" line")
	ErrNoSender       = errors.New("sendmail: qf has no sender (S line)")
	ErrNoRecipient    = errors.New("sendmail: qf has no recipient (R line)")
	ErrNUL            = errors.New("sendmail: qf contains a NUL byte")
	ErrTooLarge       = errors.New("sendmail: qf larger than the limit")
	ErrLineTooLong    = errors.New("sendmail: qf line longer than the limit")
	ErrTooManyHeaders = errors.New("sendmail: qf has more headers than the limit")
	ErrVersion        = errors.New("sendmail: unsupported qf version")
	ErrBadHeader      = errors.New("sendmail: invalid header")
	ErrBadAddress     = errors.New("sendmail: invalid address")
)

// MaxVersion is the newest qf format version understood (sendmail 8.13+).
const MaxVersion = 8

// Limits bound what ParseQf accepts. A zero field takes its default.
type Limits struct {
	// MaxQfBytes is the largest qf file accepted. Default 4 MiB; sendmail's
	// own header limit is 32 KiB, so only huge recipient lists come near.
	MaxQfBytes int64
	// MaxLineBytes is the longest physical line accepted. Default 1 MiB.
	MaxLineBytes int
	// MaxHeaders is the largest number of H lines accepted. Default 10000.
	MaxHeaders int
}

// Default limits.
const (
	DefaultMaxQfBytes   = 4 << 20
	DefaultMaxLineBytes = 1 << 20
	DefaultMaxHeaders   = 10000
)

func (l Limits) withDefaults() Limits {
	if l.MaxQfBytes <= 0 {
		l.MaxQfBytes = DefaultMaxQfBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	return l
}

type kind uint8

const (
	kindOther  kind = iota // any line kept verbatim
	kindHeader             // an H line with its continuation lines
	kindRcpt               // C/Q/r lines and the R line they belong to
)

// entry is one logical unit of a qf: raw holds its exact bytes, line ends
// and continuation lines included.
type entry struct {
	kind kind
	raw  []byte
	hdr  header    // kindHeader
	rcpt Recipient // kindRcpt
}

// Qf is a parsed qf file. The zero value is not useful; use ParseQf or NewQf.
type Qf struct {
	entries []entry
	end     []byte // the terminating "." line
	trailer []byte // bytes after the "." line, which sendmail ignores

	version int
	sender  string
	hasS    bool
	macros  map[string]string
	auth    string // A line
	hasAuth bool
}

// ParseQf reads a qf file from r. On ErrNoSender or ErrNoRecipient (which
// sendmail produces, e.g. for a message it refused to route) it returns
// the parsed Qf too, so that the caller can log what it holds; on other
// errors the Qf is nil.
func ParseQf(r io.Reader, lim Limits) (*Qf, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxQfBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read qf: %w", err)
	}
	if int64(len(data)) > lim.MaxQfBytes {
		return nil, fmt.Errorf("read qf: %w (%d bytes)", ErrTooLarge, lim.MaxQfBytes)
	}
	return parse(data, lim)
}

// physLine returns the first line of b including its terminator, and the
// line without "\n" or "\r\n".
func physLine(b []byte) (raw, content []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, b
	}
	raw, content = b[:i+1], b[:i]
	if n := len(content); n > 0 && content[n-1] == '\r' {
		content = content[:n-1]
	}
	return raw, content
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func parse(data []byte, lim Limits) (*Qf, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, fmt.Errorf("parse qf line %d: %w", 1+bytes.Count(data[:i], []byte("\n")), ErrNUL)
	}
	q := &Qf{macros: map[string]string{}}
	var (
		pending []entry // C, Q, r lines waiting for their R line
		headers int
		lineNo  int
	)
	rest := data
	for len(rest) > 0 {
		raw, content := physLine(rest)
		lineNo++
		if len(content) > lim.MaxLineBytes {
			return nil, fmt.Errorf("parse qf line %d: %w (%d bytes)", lineNo, ErrLineTooLong, lim.MaxLineBytes)
		}
		if len(content) > 0 && content[0] == '.' {
			q.end, q.trailer = raw, rest[len(raw):]
			break
		}
		// A logical line is a physical line plus the lines folded under it.
		n := len(raw)
		for n < len(rest) && isWSP(rest[n]) {
			r2, c2 := physLine(rest[n:])
			lineNo++
			if len(c2) > lim.MaxLineBytes {
				return nil, fmt.Errorf("parse qf line %d: %w (%d bytes)", lineNo, ErrLineTooLong, lim.MaxLineBytes)
			}
			n += len(r2)
		}
		logical := rest[:n:n]
		rest = rest[n:]
		e, err := q.classify(logical)
		if err != nil {
			return nil, fmt.Errorf("parse qf line %d: %w", lineNo, err)
		}
		switch {
		case e.kind == kindHeader:
			if headers++; headers > lim.MaxHeaders {
				return nil, fmt.Errorf("parse qf line %d: %w (%d)", lineNo, ErrTooManyHeaders, lim.MaxHeaders)
			}
		case isRcptPrefix(logical[0]):
			pending = append(pending, e)
			continue
		}
		if e.kind == kindRcpt {
			e = joinRcpt(pending, e)
			pending = pending[:0]
		} else {
			q.entries = append(q.entries, pending...)
			pending = pending[:0]
		}
		q.entries = append(q.entries, e)
	}
	q.entries = append(q.entries, pending...)
	if q.end == nil {
		return nil, fmt.Errorf("parse qf: %w", ErrTruncated)
	}
	return q, q.check()
}

// check reports the errors sendmail itself would find in a qf's envelope.
func (q *Qf) check() error {
	var errs []error
	if !q.hasS {
		errs = append(errs, ErrNoSender)
	}
	if len(q.Recipients()) == 0 {
		errs = append(errs, ErrNoRecipient)
	}
	return errors.Join(errs...)
}

// isRcptPrefix tells the code letters of the lines that precede an R line
// and belong to it: controlling user, ORCPT and final recipient.
func isRcptPrefix(c byte) bool { return c == 'C' || c == 'Q' || c == 'r' }

// unfold returns a logical line's content: physical lines without their
// line ends, joined with "\n" as sendmail's fgetfolded does.
func unfold(logical []byte) []byte {
	var out []byte
	for len(logical) > 0 {
		raw, content := physLine(logical)
		if out != nil {
			out = append(out, '\n')
		}
		out = append(out, content...)
		if out == nil {
			out = []byte{}
		}
		logical = logical[len(raw):]
	}
	return out
}

// classify turns one logical line into an entry and records the envelope
// data it carries.
func (q *Qf) classify(logical []byte) (entry, error) {
	e := entry{kind: kindOther, raw: logical}
	line := unfold(logical)
	if len(line) == 0 {
		return e, nil
	}
	val := string(line[1:])
	switch line[0] {
	case 'V':
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 || v > MaxVersion {
			return e, fmt.Errorf("%w: %q", ErrVersion, val)
		}
		q.version = v
	case 'S':
		q.sender, q.hasS = stripBrackets(val), true
	case 'A':
		q.auth, q.hasAuth = val, true
	case '$':
		if name, v, ok := parseMacro(val); ok {
			q.macros[name] = v
		}
	case 'H':
		if h, ok := parseHeader(line[1:]); ok {
			e.kind, e.hdr = kindHeader, h
		}
	case 'R':
		e.kind, e.rcpt = kindRcpt, parseRcpt(val, q.version)
	}
	return e, nil
}

// Bytes returns the qf file. For a Qf that was parsed and not edited it is
// identical to the input.
func (q *Qf) Bytes() []byte {
	var b bytes.Buffer
	_, _ = q.WriteTo(&b)
	return b.Bytes()
}

// WriteTo writes the qf file to w.
func (q *Qf) WriteTo(w io.Writer) (int64, error) {
	var total int64
	write := func(p []byte) error {
		n, err := w.Write(p)
		total += int64(n)
		return err
	}
	for _, e := range q.entries {
		if err := write(e.raw); err != nil {
			return total, err
		}
	}
	if err := write(q.end); err != nil {
		return total, err
	}
	err := write(q.trailer)
	return total, err
}

// Version returns the qf format version (V line); 0 when there is none.
func (q *Qf) Version() int { return q.version }
