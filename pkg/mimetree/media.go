package mimetree

import "strings"

// MediaType is a tolerant reading of a Content-Type value: the lower-case
// type and the first occurrence of each parameter (names lower case).
// Comments are dropped.
type MediaType struct {
	Type   string
	Params map[string]string
}

// ParseMediaType reads a Content-Type value in time linear in len(v)
// whatever the input.
func ParseMediaType(v string) MediaType {
	segs, _, _ := SplitParams(v)
	mt := MediaType{Type: strings.ToLower(strings.TrimSpace(segs[0])), Params: map[string]string{}}
	for _, s := range segs[1:] {
		name, val, ok := CutParam(s)
		if _, dup := mt.Params[name]; ok && !dup && name != "" {
			mt.Params[name] = val
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

// IsIdentityCTE reports whether a Content-Transfer-Encoding leaves the
// bytes as they are, so that an encapsulated message can be walked in place.
func IsIdentityCTE(cte string) bool {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}
