package explode

import (
	"bytes"
	"strings"

	"github.com/qscan/qscan/pkg/rebuild"
)

// field is one unfolded header field.
type field struct {
	Name  string // as written
	Value string // unfolded, without the leading blank
}

// splitHeader returns the header block of raw (without the blank line) and
// the offset where the body starts. A message without a blank line is all
// header; one that starts with a blank line has an empty header.
func splitHeader(raw []byte) (hdr []byte, body int) {
	if len(raw) > 0 && raw[0] == '\n' {
		return nil, 1
	}
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, 2
	}
	for i := 0; ; {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return raw, len(raw)
		}
		next := i + j + 1
		switch {
		case next < len(raw) && raw[next] == '\n':
			return raw[:next], next + 1
		case next+1 < len(raw) && raw[next] == '\r' && raw[next+1] == '\n':
			return raw[:next], next + 2
		}
		i = next
	}
}

// parseFields unfolds a header block into fields. Lines without a colon are
// skipped (they are reported by the caller through badLines). The value of
// a folded field is built once from its lines, so unfolding costs time
// linear in len(hdr) however many continuation lines a field has.
func parseFields(hdr []byte) (fields []field, badLines int) {
	var val []byte // value of the last field, while continuation lines come
	flush := func() {
		if n := len(fields); n > 0 && val != nil {
			fields[n-1].Value = string(val)
		}
		val = nil
	}
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if n := len(fields); n > 0 {
				if val == nil {
					val = []byte(fields[n-1].Value)
				}
				val = append(append(val, ' '), bytes.TrimSpace(line)...)
				continue
			}
			badLines++
			continue
		}
		flush()
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(bytes.TrimSpace(name)) == 0 {
			if len(line) > 0 {
				badLines++
			}
			continue
		}
		fields = append(fields, field{
			Name:  string(bytes.TrimSpace(name)),
			Value: strings.TrimSpace(string(value)),
		})
	}
	flush()
	return fields, badLines
}

// values returns the values of every field called name (case-insensitive).
func values(fields []field, name string) []string {
	var out []string
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// param is one Content-Type or Content-Disposition parameter.
type param struct {
	Name  string // lower case
	Value string // unquoted
}

// mediaType is our own strict, linear reading of a Content-Type value. It
// exists to bound and cross-check the MIME library, not to replace it.
type mediaType struct {
	Type    string // lower case, "" when missing
	Params  []param
	Comment bool // a (comment) appeared
	Broken  bool // unclosed quote or comment, or a parameter without '='
}

// parseMediaType reads "type/sub; a=b; c="d"" with comments removed. It runs
// in time linear in len(v) whatever the nesting of parentheses.
func parseMediaType(v string) mediaType {
	var mt mediaType
	segs, comment, unclosed := rebuild.SplitParams(v)
	mt.Comment, mt.Broken = comment, unclosed
	mt.Type = strings.ToLower(strings.TrimSpace(segs[0]))
	for _, s := range segs[1:] {
		if strings.TrimSpace(s) == "" {
			continue
		}
		name, value, ok := rebuild.CutParam(s)
		if !ok || !isToken(name) {
			mt.Broken = true
			continue
		}
		mt.Params = append(mt.Params, param{Name: name, Value: value})
	}
	return mt
}

// boundary returns the first plain boundary parameter.
func (mt mediaType) boundary() string {
	for _, p := range mt.Params {
		if p.Name == "boundary" {
			return p.Value
		}
	}
	return ""
}

// ambiguity lists the reasons why two MIME parsers could read this
// Content-Type differently (CVE-2024-28054 and the MIME-tools 2026 family).
func (mt mediaType) ambiguity() []string {
	if !strings.HasPrefix(mt.Type, "multipart/") {
		return nil
	}
	var why []string
	seen := map[string]bool{}
	for _, p := range mt.Params {
		switch {
		case p.Name == "boundary":
			seen[p.Value] = true
			if strings.Contains(p.Value, "=?") {
				why = append(why, "encoded-word boundary")
			}
			if strings.TrimRight(p.Value, " \t") != p.Value {
				why = append(why, "boundary with trailing blank")
			}
		case strings.HasPrefix(p.Name, "boundary*"):
			why = append(why, "RFC 2231 boundary")
		case strings.HasPrefix(p.Name, "boundary"):
			why = append(why, "malformed boundary parameter")
		}
	}
	if len(seen) > 1 {
		why = append(why, "two boundary parameters")
	}
	if mt.Comment {
		why = append(why, "comment in multipart Content-Type")
	}
	if mt.Broken && len(seen) > 0 {
		why = append(why, "boundary next to an unparsable parameter")
	}
	return why
}

// isToken reports whether s is an RFC 2045 token (no tspecials, no
// blanks, ASCII only).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
