// Package exim reads and writes Exim 4.96 spool files (-H envelope and
// header file, -D data file), lists and locks spool input directories,
// and makes Exim-style message IDs: a plain library that knows nothing of
// scanning, like package sendmail.
//
// Exim documents its spool format (specification, chapter "Format of
// spool files") but does not promise it as an interface; the code here
// follows Exim 4.96's own reader and writer (src/spool_in.c,
// src/spool_out.c). A -H file is parsed into records that keep their exact
// bytes, so that writing back an unchanged file gives the identical bytes;
// only what is edited (header lines, the ID line, the body line count) is
// written anew, the way Exim writes it.
package exim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrFormat         = errors.New("exim: malformed -H file")
	ErrNUL            = errors.New("exim: -H file contains a NUL byte")
	ErrTooLarge       = errors.New("exim: -H file larger than the limit")
	ErrLineTooLong    = errors.New("exim: -H line longer than the limit")
	ErrTooManyHeaders = errors.New("exim: -H file has more headers than the limit")
	ErrTooManyRcpts   = errors.New("exim: -H file has more recipients than the limit")
	ErrNoRecipient    = errors.New("exim: message has no recipient")
	ErrBadHeader      = errors.New("exim: invalid header")
	ErrBadAddress     = errors.New("exim: invalid address")
)

// Limits bound what ParseH accepts. A zero field takes its default.
type Limits struct {
	// MaxHBytes is the largest -H file accepted. Default 8 MiB: Exim's
	// own header limit (header_maxsize) is 1 MiB, and 16384 recipients
	// of a few hundred bytes each come to a few more.
	MaxHBytes int64
	// MaxLineBytes is the longest envelope line accepted. Default 64 KiB,
	// the longest Exim reads (4 × BIG_BUFFER_SIZE).
	MaxLineBytes int
	// MaxHeaders is the largest number of header records. Default 10000.
	MaxHeaders int
	// MaxRecipients is the largest recipient count. Default 16384, the
	// sanity limit of Exim's own reader.
	MaxRecipients int
}

// Default limits.
const (
	DefaultMaxHBytes     = 8 << 20
	DefaultMaxLineBytes  = 64 << 10
	DefaultMaxHeaders    = 10000
	DefaultMaxRecipients = 16384
)

func (l Limits) withDefaults() Limits {
	if l.MaxHBytes <= 0 {
		l.MaxHBytes = DefaultMaxHBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxRecipients <= 0 {
		l.MaxRecipients = DefaultMaxRecipients
	}
	return l
}

// H is a parsed -H file. The zero value is not useful; use ParseH or NewH.
type H struct {
	id      string
	fixed   []byte   // lines 2 to 4 (user, sender, time), verbatim
	options []Option // the "-name value" lines, each with its bytes
	tail    []byte   // non-recipients, recipients, blank line, verbatim
	rcpts   []Recipient
	headers []hrec

	login    string
	uid, gid int64
	sender   string
	received int64 // seconds
	warnings int
}

// ParseH reads a -H file from r. The caller compares ID() with the name
// the file was found under.
func ParseH(r io.Reader, lim Limits) (*H, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxHBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read -H: %w", err)
	}
	if int64(len(data)) > lim.MaxHBytes {
		return nil, fmt.Errorf("read -H: %w (%d bytes)", ErrTooLarge, lim.MaxHBytes)
	}
	return parseH(data, lim)
}

// reader walks the lines of a -H file.
type reader struct {
	data   []byte
	pos    int
	lineNo int
	lim    Limits
}

// line returns the next line with its "\n" and without it.
func (r *reader) line() (raw, content []byte, err error) {
	if r.pos >= len(r.data) {
		return nil, nil, fmt.Errorf("line %d: %w: unexpected end of file", r.lineNo+1, ErrFormat)
	}
	r.lineNo++
	rest := r.data[r.pos:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		return nil, nil, fmt.Errorf("line %d: %w: no line end", r.lineNo, ErrFormat)
	}
	if i > r.lim.MaxLineBytes {
		return nil, nil, fmt.Errorf("line %d: %w (%d bytes)", r.lineNo, ErrLineTooLong, r.lim.MaxLineBytes)
	}
	r.pos += i + 1
	return rest[:i+1], rest[:i], nil
}

func (r *reader) errf(format string, a ...any) error {
	return fmt.Errorf("line %d: %w: %s", r.lineNo, ErrFormat, fmt.Sprintf(format, a...))
}

func parseH(data []byte, lim Limits) (*H, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, fmt.Errorf("parse -H line %d: %w", 1+bytes.Count(data[:i], []byte("\n")), ErrNUL)
	}
	r := &reader{data: data, lim: lim}
	h := &H{}
	if err := h.parseEnvelope(r); err != nil {
		return nil, fmt.Errorf("parse -H %w", err)
	}
	if err := h.parseHeaders(r); err != nil {
		return nil, fmt.Errorf("parse -H %w", err)
	}
	return h, nil
}

func (h *H) parseEnvelope(r *reader) error {
	_, idLine, err := r.line()
	if err != nil {
		return err
	}
	id, ok := bytes.CutSuffix(idLine, []byte("-H"))
	if !ok || !ValidID(string(id)) {
		return r.errf("first line %.40q is not <ID>-H", idLine)
	}
	h.id = string(id)
	start := r.pos
	if err := h.parseFixed(r); err != nil {
		return err
	}
	h.fixed = r.data[start:r.pos:r.pos]
	// Options until the first line not starting with '-': the tree.
	var content []byte
	for {
		start = r.pos
		if _, content, err = r.line(); err != nil {
			return err
		}
		if len(content) == 0 || content[0] != '-' {
			break
		}
		opt, err := parseOption(r, content)
		if err != nil {
			return err
		}
		opt.raw = r.data[start:r.pos:r.pos]
		h.options = append(h.options, opt)
	}
	if err := skipTree(r, content); err != nil {
		return err
	}
	if _, content, err = r.line(); err != nil {
		return err
	}
	n, err := strconv.Atoi(string(content))
	if err != nil || n < 0 {
		return r.errf("recipient count %.40q", content)
	}
	if n > r.lim.MaxRecipients {
		return fmt.Errorf("line %d: %w (%d)", r.lineNo, ErrTooManyRcpts, r.lim.MaxRecipients)
	}
	h.rcpts = make([]Recipient, 0, n)
	for range n {
		if _, content, err = r.line(); err != nil {
			return err
		}
		if len(content) == 0 {
			return r.errf("empty recipient line")
		}
		h.rcpts = append(h.rcpts, parseRecipient(string(content)))
	}
	if _, content, err = r.line(); err != nil {
		return err
	}
	if len(content) != 0 {
		return r.errf("no blank line before the headers")
	}
	h.tail = r.data[start:r.pos:r.pos]
	return nil
}

// parseFixed reads the three fixed lines after the ID: login uid gid,
// <sender>, time and warning count.
func (h *H) parseFixed(r *reader) error {
	_, c, err := r.line()
	if err != nil {
		return err
	}
	fields := bytes.Split(bytes.TrimRight(c, " \t\r"), []byte(" "))
	if len(fields) < 3 {
		return r.errf("user line %.60q", c)
	}
	gid, err1 := strconv.ParseInt(string(fields[len(fields)-1]), 10, 64)
	uid, err2 := strconv.ParseInt(string(fields[len(fields)-2]), 10, 64)
	if err1 != nil || err2 != nil {
		return r.errf("user line %.60q", c)
	}
	h.login, h.uid, h.gid = string(bytes.Join(fields[:len(fields)-2], []byte(" "))), uid, gid
	if _, c, err = r.line(); err != nil {
		return err
	}
	if len(c) < 2 || c[0] != '<' || c[len(c)-1] != '>' {
		return r.errf("sender line %.60q", c)
	}
	h.sender = string(c[1 : len(c)-1])
	if _, c, err = r.line(); err != nil {
		return err
	}
	t, w, ok := bytes.Cut(c, []byte(" "))
	sec, err1 := strconv.ParseInt(string(t), 10, 64)
	warn, err2 := strconv.Atoi(string(w))
	if !ok || err1 != nil || err2 != nil {
		return r.errf("time line %.60q", c)
	}
	h.received, h.warnings = sec, warn
	return nil
}

// skipTree reads the tree of non-recipients that starts with first: "XX",
// or node lines "YN address" whose Y letters announce a left and a right
// subtree that follow.
func skipTree(r *reader, first []byte) error {
	if string(first) == "XX" {
		return nil
	}
	need := 1
	line := first
	for {
		if len(line) < 4 || line[2] != ' ' {
			return r.errf("non-recipient line %.60q", line)
		}
		need--
		for _, c := range line[:2] {
			if c == 'Y' {
				need++
			}
		}
		if need == 0 {
			return nil
		}
		var err error
		if _, line, err = r.line(); err != nil {
			return err
		}
	}
}

func (h *H) parseHeaders(r *reader) error {
	data := r.data
	for p := r.pos; p < len(data); {
		if len(h.headers) >= r.lim.MaxHeaders {
			return fmt.Errorf("header %d: %w (%d)", len(h.headers)+1, ErrTooManyHeaders, r.lim.MaxHeaders)
		}
		q := p
		for q < len(data) && q-p < 9 && data[q] >= '0' && data[q] <= '9' {
			q++
		}
		if q == p || q+2 > len(data) || data[q+1] != ' ' {
			return fmt.Errorf("header %d: %w: no length and flag", len(h.headers)+1, ErrFormat)
		}
		n, _ := strconv.Atoi(string(data[p:q]))
		flag := data[q]
		start := q + 2
		if n <= 0 || start+n > len(data) {
			return fmt.Errorf("header %d: %w: length %d beyond the end of the file", len(h.headers)+1, ErrFormat, n)
		}
		text := data[start : start+n : start+n]
		// Exim's reader (fscanf "%d%c ") skips every blank after the flag:
		// a text that starts with one would be read otherwise than written.
		if isWSP(text[0]) || text[0] == '\n' || text[n-1] != '\n' {
			return fmt.Errorf("header %d: %w: text %.40q", len(h.headers)+1, ErrFormat, text)
		}
		h.headers = append(h.headers, newHrec(data[p:start:start], flag, text))
		p = start + n
	}
	return nil
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// ID returns the message ID of the first line.
func (h *H) ID() string { return h.id }

// SetID changes the message ID of the first line, for a copy written
// into another spool under another ID. The Received: header keeps the ID
// under which the first Exim took the message.
func (h *H) SetID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("set id: %q is not an Exim message ID", id)
	}
	h.id = id
	return nil
}

// Bytes returns the -H file. For an H that was parsed and not edited it
// is identical to the input.
func (h *H) Bytes() []byte {
	var b bytes.Buffer
	_, _ = h.WriteTo(&b)
	return b.Bytes()
}

// WriteTo writes the -H file to w.
func (h *H) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	b.WriteString(h.id)
	b.WriteString("-H\n")
	b.Write(h.fixed)
	for _, o := range h.options {
		b.Write(o.raw)
	}
	b.Write(h.tail)
	for _, hr := range h.headers {
		b.Write(hr.prefix)
		b.Write(hr.text)
	}
	return b.WriteTo(w)
}
