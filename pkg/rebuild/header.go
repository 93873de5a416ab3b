package rebuild

import (
	"bytes"
	"strings"
)

// field is one header field of a block, with the place of its raw bytes.
type field struct {
	name  string // as written, without surrounding blanks
	value string // unfolded and trimmed
	start int    // first byte of the field
	colon int    // offset of the colon
	end   int    // offset after the field's last line break
}

// lineEnd returns the offset of the next '\n' at or after pos in b[:end],
// or end, and the offset after it.
func lineEnd(b []byte, pos, end int) (nl, next int) {
	if i := bytes.IndexByte(b[pos:end], '\n'); i >= 0 {
		return pos + i, pos + i + 1
	}
	return end, end
}

// trimCR drops a CR before a line's end offset.
func trimCR(b []byte, start, nl int) int {
	if nl > start && b[nl-1] == '\r' {
		return nl - 1
	}
	return nl
}

// splitHeader finds the header block of the entity in b[start:end]: it
// returns the offset after the header's last line and the offset where the
// body starts (after the blank line). An entity without a blank line is all
// header.
func splitHeader(b []byte, start, end int) (hdrEnd, bodyStart int) {
	for pos := start; pos < end; {
		nl, next := lineEnd(b, pos, end)
		if trimCR(b, pos, nl) == pos {
			return pos, next
		}
		pos = next
	}
	return end, end
}

// parseFields unfolds the header block b[start:end]. Lines that are
// neither a field nor a continuation are skipped.
func parseFields(b []byte, start, end int) []field {
	var fields []field
	for pos := start; pos < end; {
		nl, next := lineEnd(b, pos, end)
		line := b[pos:trimCR(b, pos, nl)]
		switch {
		case len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
			if n := len(fields); n > 0 && fields[n-1].end == pos {
				// The value is unfolded once the field is complete:
				// concatenating line by line is quadratic.
				fields[n-1].end = next
				fields[n-1].value = ""
			}
		default:
			if i := bytes.IndexByte(line, ':'); i > 0 {
				name := strings.TrimSpace(string(line[:i]))
				if name != "" {
					fields = append(fields, field{
						name:  name,
						value: strings.TrimSpace(string(line[i+1:])),
						start: pos, colon: pos + i, end: next,
					})
				}
			}
		}
		pos = next
	}
	for i := range fields {
		if f := &fields[i]; f.value == "" {
			f.value = unfold(b[f.colon+1 : f.end])
		}
	}
	return fields
}

// unfold joins the lines of a field value with one blank, each trimmed,
// empty ones dropped, in time linear in len(v).
func unfold(v []byte) string {
	var out []byte
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if len(out) > 0 {
				out = append(out, ' ')
			}
			out = append(out, line...)
		}
	}
	return string(out)
}

// lookup returns the first field called name (case-insensitively).
func lookup(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return field{}, false
}

// value returns the value of the first field called name, or "".
func value(fields []field, name string) string {
	f, _ := lookup(fields, name)
	return f.value
}

// mediaType is a tolerant reading of a Content-Type value: the lower-case
// type and the first occurrence of each parameter. Comments are dropped.
// It runs in linear time whatever the input.
type mediaType struct {
	typ    string
	params map[string]string
}

func parseMediaType(v string) mediaType {
	segs, _, _ := SplitParams(v)
	mt := mediaType{typ: strings.ToLower(strings.TrimSpace(segs[0])), params: map[string]string{}}
	for _, s := range segs[1:] {
		name, val, ok := CutParam(s)
		if _, dup := mt.params[name]; ok && !dup && name != "" {
			mt.params[name] = val
		}
	}
	return mt
}

// SplitParams splits a Content-Type or Content-Disposition value at the
// semicolons outside quoted strings and (comments), dropping the comments
// and the backslashes of quoted pairs; segs[0] is the type. It runs in
// time linear in len(v) whatever the nesting. comment reports that a
// comment appeared; unclosed, that a quoted string or a comment was still
// open at the end.
func SplitParams(v string) (segs []string, comment, unclosed bool) {
	var seg strings.Builder
	depth, quoted, escaped := 0, false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			seg.WriteByte(c)
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case quoted:
			seg.WriteByte(c)
			quoted = c != '"'
		case c == '(':
			depth++
			comment = true
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '"':
			quoted = true
			seg.WriteByte(c)
		case c == ';':
			segs = append(segs, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(c)
		}
	}
	return append(segs, seg.String()), comment, depth > 0 || quoted
}

// CutParam splits one parameter of SplitParams, "name=value", into the
// lower-case name and the value without its surrounding quotes.
func CutParam(seg string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(seg, "=")
	if !ok {
		return "", "", false
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return strings.ToLower(strings.TrimSpace(name)), value, true
}

// isIdentityCTE reports whether a Content-Transfer-Encoding leaves the
// bytes as they are, so that an encapsulated message can be walked in place.
func isIdentityCTE(cte string) bool {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}
