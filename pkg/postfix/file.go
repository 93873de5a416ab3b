package postfix

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits bound what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxFileBytes is the largest queue file accepted; the message
	// content is inside it. Default 64 MiB (Postfix's own
	// message_size_limit is 10 MB by default).
	MaxFileBytes int64
	// MaxRecordBytes is the longest record accepted. Default 1 MiB;
	// cleanup writes text records of at most line_length_limit (2048).
	MaxRecordBytes int
	// MaxRecords bounds the records read, pointer jumps included.
	// Default 4,000,000.
	MaxRecords int
}

// Default limits.
const (
	DefaultMaxFileBytes   = 64 << 20
	DefaultMaxRecordBytes = 1 << 20
	DefaultMaxRecords     = 4_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	return l
}

// Record is one record of a queue file. Off is its offset in the file it
// was parsed from, -1 for a record made by this package.
type Record struct {
	Type byte
	Data []byte
	Off  int
}

// File is a parsed queue file. The zero value is not useful; use Parse
// or NewFile.
type File struct {
	raw   []byte   // the file as parsed; written back while !dirty
	size  []int64  // the fields of the size record
	env   []Record // envelope records in reading order, without C, pointers and padding
	text  []Record // content records (N and L) in reading order
	extra []Record // extracted records, without X, E, pointers and padding

	mOff, xOff, eOff int // offsets of the M, X and E records

	hdrEnd   int  // text[:hdrEnd] is the header, the empty separator line included
	sep      bool // the header ended with an empty line
	pointers bool // the file holds pointer records that jump
	dirty    bool // edited: written out flat

	envelope Envelope
}

// Parse reads a queue file from r, following pointer records the way
// Postfix's readers do, up to the end record.
func Parse(r io.Reader, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read queue file: %w", err)
	}
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, fmt.Errorf("read queue file: %w (%d bytes)", ErrTooLarge, lim.MaxFileBytes)
	}
	return parse(data, lim)
}

const (
	segEnvelope = iota
	segContent
	segExtract
)

var segNames = [...]string{"envelope", "content", "extracted"}

func parse(data []byte, lim Limits) (*File, error) {
	f := &File{raw: data}
	seg, off, n := segEnvelope, 0, 0
	for {
		if n++; n > lim.MaxRecords {
			return nil, fmt.Errorf("parse queue file: %w (%d)", ErrTooMany, lim.MaxRecords)
		}
		typ, val, next, err := readRecord(data, off, lim.MaxRecordBytes)
		if err != nil {
			return nil, fmt.Errorf("parse queue file: %w", err)
		}
		if off == 0 {
			if typ != RecSize {
				return nil, fmt.Errorf("parse queue file: %w: first record is %q, not the size record", ErrFormat, typ)
			}
			if f.size, err = parseSize(val); err != nil {
				return nil, fmt.Errorf("parse queue file: %w", err)
			}
			off = next
			continue
		}
		allowed := [...]string{envelopeTypes, contentTypes, extractTypes}[seg]
		if strings.IndexByte(allowed, typ) < 0 || typ == RecSize {
			return nil, fmt.Errorf("parse queue file: %w: record type %q at offset %d in the %s segment",
				ErrFormat, typ, off, segNames[seg])
		}
		switch typ {
		case RecPtr:
			to, err := parsePtr(val)
			if err != nil || to >= len(data) {
				return nil, fmt.Errorf("parse queue file: %w: pointer %q at offset %d", ErrFormat, val, off)
			}
			if to == 0 { // a dummy pointer, room for an edit
				off = next
			} else {
				f.pointers, off = true, to
			}
			continue
		case RecDtxt:
			off = next
			continue
		}
		rec := Record{Type: typ, Data: val, Off: off}
		off = next
		switch {
		case seg == segEnvelope && typ == RecMesg:
			seg, f.mOff = segContent, rec.Off
		case seg == segEnvelope:
			f.env = append(f.env, rec)
		case seg == segContent && typ == RecXtra:
			seg, f.xOff = segExtract, rec.Off
		case seg == segContent:
			f.text = append(f.text, rec)
		case typ == RecEnd:
			f.eOff = rec.Off
			f.hdrEnd, f.sep = splitHeader(f.text)
			f.envelope = makeEnvelope(f.env, f.extra)
			if !f.envelope.hasSender {
				return nil, fmt.Errorf("parse queue file: %w", ErrNoSender)
			}
			return f, nil
		default:
			f.extra = append(f.extra, rec)
		}
	}
}

// parseSize reads the fields of the size record ("%15ld" each, separated
// by a space); Postfix before 1.0 wrote one field only.
func parseSize(val []byte) ([]int64, error) {
	fs := strings.Fields(string(val))
	if len(fs) == 0 || len(fs) > 6 {
		return nil, fmt.Errorf("%w: size record %q", ErrFormat, val)
	}
	out := make([]int64, len(fs))
	for i, s := range fs {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: size record %q", ErrFormat, val)
		}
		out[i] = v
	}
	return out, nil
}

// parsePtr reads a pointer record's offset: blanks, then decimal digits
// (rec_goto); blanks only is a dummy pointer, as 0 is.
func parsePtr(val []byte) (int, error) {
	s := strings.TrimLeft(string(val), " \t\n\r\f\v")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 31)
	return int(v), err
}

// Pointers reports whether the file jumps with pointer records (it was
// edited in place by cleanup, e.g. for a milter). Such a file is read
// following the pointers; an edited one is written out flat.
func (f *File) Pointers() bool { return f.pointers }

// SizeFields returns the fields of the size record as parsed: content
// size, data offset, recipient count, queue manager flags, content length
// and SMTPUTF8 flags.
func (f *File) SizeFields() []int64 { return append([]int64(nil), f.size...) }

// Records returns the records in reading order (pointers followed,
// pointer and padding records left out), the size, M, X and E records
// included. Off is where the record was read; -1 for a record added by an
// edit, and not meaningful in an edited File. The data slices must not be
// modified.
func (f *File) Records() []Record {
	out := make([]Record, 0, len(f.env)+len(f.text)+len(f.extra)+4)
	out = append(out, Record{Type: RecSize, Data: []byte(sizeValue(f.size)), Off: 0})
	out = append(out, f.env...)
	out = append(out, Record{Type: RecMesg, Off: f.mOff})
	out = append(out, f.text...)
	out = append(out, Record{Type: RecXtra, Off: f.xOff})
	out = append(out, f.extra...)
	return append(out, Record{Type: RecEnd, Off: f.eOff})
}

// sizeValue formats the size record as cleanup does.
func sizeValue(fields []int64) string {
	var b strings.Builder
	for i, v := range fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%15d", v)
	}
	return b.String()
}

// Bytes returns the queue file. A File that was parsed and not edited
// gives the bytes it was parsed from.
func (f *File) Bytes() []byte {
	if !f.dirty {
		return f.raw
	}
	return f.flat()
}

// WriteTo writes the queue file to w.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(f.Bytes())
	return int64(n), err
}

// flat serialises the file without pointers: the size record with the
// offsets of this layout, the envelope, the content, the extracted
// segment and the end record.
func (f *File) flat() []byte {
	size := make([]int64, 6)
	copy(size, f.size)
	placeholder := sizeValue(size)
	var b []byte
	b = appendRecord(b, RecSize, []byte(placeholder))
	rcpts := int64(0)
	for _, r := range f.env {
		b = appendRecord(b, r.Type, r.Data)
		rcpts += isRcptRecord(r.Type)
	}
	b = appendRecord(b, RecMesg, nil)
	dataOff := len(b)
	for _, r := range f.text {
		b = appendRecord(b, r.Type, r.Data)
	}
	xtraOff := len(b)
	b = appendRecord(b, RecXtra, nil)
	for _, r := range f.extra {
		b = appendRecord(b, r.Type, r.Data)
		rcpts += isRcptRecord(r.Type)
	}
	b = appendRecord(b, RecEnd, nil)
	size[0], size[1], size[2], size[4] = int64(xtraOff-dataOff), int64(dataOff), rcpts, int64(xtraOff-dataOff)
	final := sizeValue(size)
	if len(final) != len(placeholder) { // a field wider than 15 digits: cannot happen below 1 PB
		out := appendRecord(nil, RecSize, []byte(final))
		return append(out, b[recordLen(len(placeholder)):]...)
	}
	copy(b[recordLen(len(placeholder))-len(placeholder):], final)
	return b
}

// isRcptRecord counts the records that the queue manager counts against
// the recipient count of the size record.
func isRcptRecord(t byte) int64 {
	if t == RecRcpt || t == RecDone || t == RecDrcp {
		return 1
	}
	return 0
}

// Header returns the message header as RFC 5322 text with LF line ends:
// every line up to the empty line that ends it (not included), folded
// lines as they are.
func (f *File) Header() []byte {
	end := f.hdrEnd
	if f.sep {
		end-- // the empty line
	}
	return textBytes(f.text[:end])
}

// Body returns the message body: every line after the header's empty
// line, each with an LF line end (a long line's L records joined).
func (f *File) Body() []byte { return textBytes(f.text[f.hdrEnd:]) }

// Message returns the message as Postfix delivers it, with LF line ends.
func (f *File) Message() []byte { return textBytes(f.text) }

// ContentLength is the size of Message.
func (f *File) ContentLength() int64 {
	var n int64
	for _, r := range f.text {
		n += int64(len(r.Data))
		if r.Type == RecNorm {
			n++
		}
	}
	return n
}

func textBytes(recs []Record) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(r.Data)
		if r.Type == RecNorm {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// splitHeader finds the end of the primary header in text records, as
// Postfix's MIME state machine does: at the first empty line (included)
// or at the first line that is neither a header field nor the
// continuation of one (not included).
func splitHeader(text []Record) (end int, sep bool) {
	first := true
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && text[j].Type == RecCont {
			j++
		}
		if j == len(text) { // a last line without its N record
			return i, false
		}
		var line []byte
		if j == i {
			line = text[i].Data
		} else {
			for _, r := range text[i : j+1] {
				line = append(line, r.Data...)
			}
		}
		switch {
		case len(line) == 0:
			return j + 1, true
		case (line[0] == ' ' || line[0] == '\t') && !first:
		case isHeaderLine(line):
		default:
			return i, false
		}
		first = false
		i = j + 1
	}
	return len(text), false
}

// isHeaderLine reports whether line starts a header field: a name of
// printable ASCII but ':', optional blanks, then ':' (is_header_buf).
func isHeaderLine(line []byte) bool {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] < 0x7f && line[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i < len(line) && line[i] == ':'
}
