package message

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

// HeaderOp is what a HeaderEdit does.
type HeaderOp uint8

// Header edit operations.
const (
	HeaderDelete  HeaderOp = iota + 1 // remove every field called Name
	HeaderAdd                         // add Name: Value after the last field
	HeaderReplace                     // set the first field called Name to Value and remove the others, or add it
)

func (op HeaderOp) String() string {
	switch op {
	case HeaderDelete:
		return "delete"
	case HeaderAdd:
		return "add"
	case HeaderReplace:
		return "replace"
	}
	return "HeaderOp(" + strconv.Itoa(int(op)) + ")"
}

// HeaderEdit is one change to the header of a delivered message. Names
// compare without regard to case. Value is the field body after "Name: ";
// its line breaks fold (a line break followed by a blank) or become
// spaces. The queue file's writer (sendmail.Qf.Edit) and EditHeader apply
// edits in order with the same meaning.
type HeaderEdit struct {
	Op    HeaderOp
	Name  string
	Value string
}

// QScanHeader returns the name of one of qscan's own header fields:
// "X-<org>-QScan" and suffix ("", "-ID", "-SpamCheck", "-Released" ...),
// org reduced to letters, digits and '-' (at most 40, no '-' at either
// end); "X-QScan<suffix>" when nothing is left. Every X-<Org>-QScan* name
// comes from here.
func QScanHeader(org, suffix string) string {
	org = strings.Map(func(r rune) rune {
		if r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, org)
	org = strings.Trim(org, "-")
	if len(org) > 40 {
		org = org[:40]
	}
	if org == "" {
		return "X-QScan" + suffix
	}
	return "X-" + org + "-QScan" + suffix
}

// EditHeader returns the header block header with edits made in order,
// as sendmail.Qf.Edit makes them on a queue file: a deletion removes every
// field of the name; an addition goes after the last field; a
// replacement sets the first field of the name (which keeps its name's
// spelling) and removes the others, or is added when there is none.
// Unnamed lines and fields not edited keep their bytes. Lines end like the
// header's (LF unless it uses CRLF). An addition or replacement whose name
// is not a valid field name is left out.
func EditHeader(header []byte, edits []HeaderEdit) []byte {
	return editHeader(header, edits, false)
}

// EditHeaderTop is EditHeader with each addition (and each replacement
// that adds) placed before the first field, as sendmail.Qf.Edit with
// atTop (MailScanner's "Place New Headers At Top Of Message").
func EditHeaderTop(header []byte, edits []HeaderEdit) []byte {
	return editHeader(header, edits, true)
}

func editHeader(header []byte, edits []HeaderEdit, top bool) []byte {
	nl := lineEnd(header)
	add := func(fields []HeaderField, f HeaderField) []HeaderField {
		if top {
			return append([]HeaderField{f}, fields...)
		}
		return append(fields, f)
	}
	fields := HeaderFields(header)
	for _, e := range edits {
		if e.Op != HeaderDelete && (e.Name == "" || !validName([]byte(e.Name))) {
			continue
		}
		switch e.Op {
		case HeaderDelete:
			fields = removeFields(fields, e.Name, -1)
		case HeaderAdd:
			fields = add(fields, HeaderField{Name: e.Name, Raw: fieldLine(e.Name, e.Value, nl)})
		case HeaderReplace:
			first := -1
			for i, f := range fields {
				if f.Name != "" && strings.EqualFold(f.Name, e.Name) {
					first = i
					break
				}
			}
			if first < 0 {
				fields = add(fields, HeaderField{Name: e.Name, Raw: fieldLine(e.Name, e.Value, nl)})
				continue
			}
			fields[first].Raw = fieldLine(fields[first].Name, e.Value, nl)
			fields = removeFields(fields, e.Name, first)
		}
	}
	var out bytes.Buffer
	out.Grow(len(header) + 512)
	for _, f := range fields {
		out.Write(f.Raw)
		if !bytes.HasSuffix(f.Raw, []byte("\n")) {
			out.WriteString(nl)
		}
	}
	return out.Bytes()
}

// removeFields removes the fields called name but the one at keep.
func removeFields(fields []HeaderField, name string, keep int) []HeaderField {
	if name == "" {
		return fields
	}
	out := fields[:0]
	for i, f := range fields {
		if i != keep && strings.EqualFold(f.Name, name) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// fieldLine returns "name: value" and a line end, keeping only the line
// breaks of value that fold (followed by a space or tab) and ending them
// with nl.
func fieldLine(name, value, nl string) []byte {
	var b bytes.Buffer
	b.WriteString(name)
	b.WriteString(": ")
	for i, line := range strings.Split(value, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i > 0 {
			if line != "" && (line[0] == ' ' || line[0] == '\t') && strings.TrimLeft(line, " \t") != "" {
				b.WriteString(nl)
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(strings.ReplaceAll(line, "\r", " "))
	}
	b.WriteString(nl)
	return b.Bytes()
}

// lineEnd returns the header's line ending: CRLF if it uses it, else LF.
func lineEnd(header []byte) string {
	if bytes.Contains(header, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// HeaderField is one field of a header block as it appears in the block:
// Raw holds every line of it, line endings included. A line that is
// neither a field nor a continuation has Name "".
type HeaderField struct {
	Name string
	Raw  []byte
}

// Value returns the field body after the colon without leading blanks and
// the final line ending; inner folds are kept.
func (f HeaderField) Value() string {
	_, v, _ := bytes.Cut(f.Raw, []byte(":"))
	s := strings.TrimLeft(string(v), " \t")
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// HeaderFields splits a header block into fields (mimetree.Block). It
// never fails: bytes it does not understand become nameless fields kept as
// they are. A name must be a valid field name as written (no blank before
// the colon).
func HeaderFields(header []byte) []HeaderField {
	block := mimetree.Block(header, 0, len(header))
	fields := make([]HeaderField, 0, len(block))
	for _, f := range block {
		name := ""
		if raw := f.RawName(header); len(raw) > 0 && validName(raw) {
			name = string(raw)
		}
		fields = append(fields, HeaderField{Name: name, Raw: header[f.Start:f.End]})
	}
	return fields
}

// ValidHeaderName accepts RFC 5322 field names: printable ASCII but ':'
// and space.
func ValidHeaderName(name string) bool { return validName([]byte(name)) }

func validName(b []byte) bool {
	return !bytes.ContainsFunc(b, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' })
}
