package sendmail

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxHeaderLine is the longest qf header line written by the edit methods;
// longer values are folded at white space (RFC 5322 allows 998 octets).
const MaxHeaderLine = 998

// metaQuote is sendmail's METAQUOTE byte: in a qf, a data byte that could
// be read as an internal metacharacter (0x80–0x9F, or 0xFF itself) is
// written after a 0xFF, while a bare 0x81 is a macro reference ($g).
const metaQuote = 0xFF

// header is a parsed H line.
type header struct {
	flags    string // between the question marks
	hasFlags bool
	name     string
	text     []byte // "Name: value\n\tmore\n" as the message carries it, qf-quoted
}

// Header is one message header line of a qf.
type Header struct {
	Flags string // sendmail's ?flags? condition, e.g. "P" for Return-Path; "" when none
	Name  string
	Value string // unfolded, without surrounding white space, 0xFF quoting removed
}

// parseHeader reads the text after H: "?flags?Name: value" or "Name: value".
func parseHeader(line []byte) (header, bool) {
	var h header
	if len(line) > 0 && line[0] == '?' {
		end := bytes.IndexByte(line[1:], '?')
		if end < 0 || bytes.IndexByte(line[1:end+1], '\n') >= 0 {
			return h, false
		}
		h.flags, h.hasFlags = string(line[1:end+1]), true
		line = line[end+2:]
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return h, false
	}
	name := bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 || bytes.ContainsAny(name, " \t\n") {
		return h, false
	}
	h.name = string(name)
	h.text = append(line[:len(line):len(line)], '\n')
	return h, true
}

// value returns the unfolded, dequoted header value.
func (h header) value() string {
	v := h.text[bytes.IndexByte(h.text, ':')+1:]
	v = bytes.ReplaceAll(v, []byte("\n"), nil)
	return string(dequote(bytes.Trim(v, " \t")))
}

// dequote removes sendmail's METAQUOTE bytes; macros stay as they are.
func dequote(b []byte) []byte {
	if bytes.IndexByte(b, metaQuote) < 0 {
		return b
	}
	return appendUnquoted(make([]byte, 0, len(b)), b, false, "")
}

// quote adds METAQUOTE bytes the way sendmail's quote_internal_chars does,
// so that data bytes can never be read as metacharacters.
func quote(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == metaQuote || c&0xE0 == 0x80 {
			out = append(out, metaQuote)
		}
		out = append(out, c)
	}
	return out
}

// Headers returns the message headers in qf order.
func (q *Qf) Headers() []Header {
	var hs []Header
	for _, e := range q.entries {
		if e.kind == kindHeader {
			hs = append(hs, Header{Flags: e.hdr.flags, Name: e.hdr.name, Value: e.hdr.value()})
		}
	}
	return hs
}

// Header returns the value of the first header called name (compared
// case-insensitively), unfolded.
func (q *Qf) Header(name string) (string, bool) {
	for _, e := range q.entries {
		if e.kind == kindHeader && equalFoldASCII(e.hdr.name, name) {
			return e.hdr.value(), true
		}
	}
	return "", false
}

// HeaderBlock returns the message header as RFC 5322 text with LF line
// ends and no final blank line: the H lines without "H?flags?", in order,
// folding kept, 0xFF quoting removed, and $g (the envelope sender) expanded
// as sendmail expands it on delivery: "Return-Path: <\x81g>" reads
// "Return-Path: <sender@example.org>", which is what the checks must see
// (SpamAssassin takes the envelope sender for SPF from it; clamd takes a
// stream opening with it for mail). Every header is included whatever its
// ?flags? condition; other macros are left as they are.
func (q *Qf) HeaderBlock() []byte {
	var b []byte
	for _, e := range q.entries {
		if e.kind == kindHeader {
			b = appendExpanded(b, e.hdr.text, q.sender)
		}
	}
	return b
}

// macroExpand is sendmail's MACROEXPAND byte: 0x81 then the macro's name.
const macroExpand = 0x81

// appendExpanded appends qf header text to b with 0xFF quoting removed and
// the macro $g replaced by sender.
func appendExpanded(b, text []byte, sender string) []byte {
	if bytes.IndexByte(text, metaQuote) < 0 && bytes.IndexByte(text, macroExpand) < 0 {
		return append(b, text...)
	}
	return appendUnquoted(b, text, true, sender)
}

// appendUnquoted appends text to b without its METAQUOTE bytes and, with
// expand, with $g replaced by sender; a quoted 0x81 is data, not a macro.
func appendUnquoted(b, text []byte, expand bool, sender string) []byte {
	for i := 0; i < len(text); i++ {
		switch {
		case text[i] == metaQuote && i+1 < len(text):
			i++
		case expand && text[i] == macroExpand && i+1 < len(text) && text[i+1] == 'g':
			b = append(b, sender...)
			i++
			continue
		}
		b = append(b, text[i])
	}
	return b
}

// equalFoldASCII compares header names case-insensitively in ASCII only:
// Unicode folding would let "ſubject" match Subject.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validHeaderName: printable ASCII without colon or space.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7F || c == ':' {
			return false
		}
	}
	return true
}

// newHeader builds the entry for "H?flags?Name: value", folded so that no
// qf line exceeds MaxHeaderLine bytes.
func newHeader(flags string, hasFlags bool, name, value string) (entry, error) {
	if !validHeaderName(name) {
		return entry{}, fmt.Errorf("header %q: %w: bad name", name, ErrBadHeader)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return entry{}, fmt.Errorf("header %s: %w: CR, LF or NUL in value", name, ErrBadHeader)
	}
	prefix := "H"
	if hasFlags {
		prefix = "H?" + flags + "?"
	}
	line := append([]byte(prefix+name+": "), quote(value)...)
	folded, err := fold(line, len(prefix)+len(name)+2)
	if err != nil {
		return entry{}, fmt.Errorf("header %s: %w", name, err)
	}
	h, _ := parseHeader(folded[1 : len(folded)-1])
	return entry{kind: kindHeader, raw: folded, hdr: h}, nil
}

// fold breaks line before white space so that each line is at most
// MaxHeaderLine bytes, never inside the first min bytes, and adds "\n".
func fold(line []byte, min int) ([]byte, error) {
	var out []byte
	for len(line) > MaxHeaderLine {
		cut := bytes.LastIndexAny(line[:MaxHeaderLine+1], " \t")
		if cut <= min || cut == 0 {
			return nil, fmt.Errorf("%w: a word longer than %d bytes cannot be folded", ErrBadHeader, MaxHeaderLine)
		}
		out = append(append(out, line[:cut]...), '\n')
		line, min = line[cut:], 1
	}
	return append(append(out, line...), '\n'), nil
}

// headerSpan returns the indexes of the first and last header entries, or
// -1, -1 when there is none.
func (q *Qf) headerSpan() (first, last int) {
	first, last = -1, -1
	for i, e := range q.entries {
		if e.kind == kindHeader {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

func (q *Qf) insert(at int, e entry) {
	q.entries = append(q.entries, entry{})
	copy(q.entries[at+1:], q.entries[at:])
	q.entries[at] = e
}

// AddHeader adds "Name: value" after the last header (sendmail's H??
// form). It refuses names that are not printable ASCII without colon and
// values with CR, LF or NUL; 8-bit bytes are quoted as sendmail does.
func (q *Qf) AddHeader(name, value string) error {
	e, err := newHeader("", true, name, value)
	if err != nil {
		return err
	}
	_, last := q.headerSpan()
	if last < 0 {
		q.entries = append(q.entries, e)
		return nil
	}
	q.insert(last+1, e)
	return nil
}

// AddHeaderTop adds "Name: value" before the first header.
func (q *Qf) AddHeaderTop(name, value string) error {
	e, err := newHeader("", true, name, value)
	if err != nil {
		return err
	}
	first, _ := q.headerSpan()
	if first < 0 {
		q.entries = append(q.entries, e)
		return nil
	}
	q.insert(first, e)
	return nil
}

// DeleteHeader removes every header called name (case-insensitively),
// with its continuation lines, and returns how many it removed.
func (q *Qf) DeleteHeader(name string) int {
	n := 0
	kept := q.entries[:0]
	for _, e := range q.entries {
		if e.kind == kindHeader && equalFoldASCII(e.hdr.name, name) {
			n++
			continue
		}
		kept = append(kept, e)
	}
	q.entries = kept
	return n
}

// ReplaceHeader sets header name to value: the first occurrence keeps its
// ?flags? and position, other occurrences are removed. Without one, it
// adds the header like AddHeader.
func (q *Qf) ReplaceHeader(name, value string) error {
	first := -1
	for i, e := range q.entries {
		if e.kind == kindHeader && equalFoldASCII(e.hdr.name, name) {
			first = i
			break
		}
	}
	if first < 0 {
		return q.AddHeader(name, value)
	}
	old := q.entries[first].hdr
	ne, err := newHeader(old.flags, old.hasFlags, old.name, value)
	if err != nil {
		return err
	}
	kept := q.entries[:0]
	for i, e := range q.entries {
		switch {
		case i == first:
			kept = append(kept, ne)
		case e.kind == kindHeader && equalFoldASCII(e.hdr.name, name):
		default:
			kept = append(kept, e)
		}
	}
	q.entries = kept
	return nil
}
