package postfix

import (
	"bytes"
	"fmt"
	"io"

	"github.com/qscan/qscan/pkg/message"
)

// LineLimit is the longest text record cleanup writes (line_length_limit,
// default 2048): a longer line becomes L records and a last N record.
const LineLimit = 2048

// DefaultMaxHeaderBytes bounds the header given to SetHeader and NewFile
// (Postfix's header_size_limit is 102400).
const DefaultMaxHeaderBytes = 1 << 20

// Edit makes header edits in order, with the meaning message.EditHeader
// gives them (as sendmail.Qf.Edit does on a qf): deletions, additions
// after the last field, replacements. The body records are kept as they
// are.
func (f *File) Edit(edits []message.HeaderEdit) error {
	if len(edits) == 0 {
		return nil
	}
	return f.SetHeader(message.EditHeader(f.Header(), edits))
}

// SetHeader replaces the message header with header (RFC 5322 text, LF or
// CRLF line ends, without the empty line that ends it; one is kept or
// added before the body).
func (f *File) SetHeader(header []byte) error {
	if len(header) > DefaultMaxHeaderBytes {
		return fmt.Errorf("set header: %w: %d bytes (limit %d)", ErrTooLarge, len(header), DefaultMaxHeaderBytes)
	}
	header = bytes.TrimSuffix(normaliseEOL(header), []byte("\n"))
	var recs []Record
	if len(header) > 0 {
		if bytes.Contains(header, []byte("\n\n")) {
			return fmt.Errorf("set header: %w: an empty line inside the header", ErrFormat)
		}
		recs = textRecords(header)
	}
	recs = append(recs, Record{Type: RecNorm, Data: []byte{}, Off: -1})
	text := make([]Record, 0, len(recs)+len(f.text)-f.hdrEnd)
	text = append(append(text, recs...), f.text[f.hdrEnd:]...)
	f.text, f.hdrEnd, f.sep, f.dirty = text, len(recs), true, true
	return nil
}

// SetBody replaces the message body with the bytes of r (LF or CRLF line
// ends; a last line without one gets one, as Postfix stores every line
// with its end).
func (f *File) SetBody(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("set body: %w", err)
	}
	body = normaliseEOL(body)
	hdr := f.text[:f.hdrEnd:f.hdrEnd]
	if !f.sep {
		hdr = append(hdr, Record{Type: RecNorm, Data: []byte{}, Off: -1})
	}
	var recs []Record
	if len(body) > 0 {
		recs = textRecords(bytes.TrimSuffix(body, []byte("\n")))
	}
	f.text = append(hdr, recs...)
	f.hdrEnd, f.sep, f.dirty = len(hdr), true, true
	return nil
}

// normaliseEOL turns CRLF line ends into LF.
func normaliseEOL(b []byte) []byte {
	if bytes.Contains(b, []byte("\r\n")) {
		return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	}
	return b
}

// textRecords turns text (lines separated by LF, no final LF) into N
// records, long lines split into L records as cleanup_out does.
func textRecords(text []byte) []Record {
	var out []Record
	for {
		line, rest, more := bytes.Cut(text, []byte("\n"))
		for len(line) > LineLimit {
			out = append(out, Record{Type: RecCont, Data: line[:LineLimit:LineLimit], Off: -1})
			line = line[LineLimit:]
		}
		out = append(out, Record{Type: RecNorm, Data: line, Off: -1})
		if !more {
			return out
		}
		text = rest
	}
}
