package explode

import (
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

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
	segs, comment, unclosed := mimetree.SplitParams(v)
	mt.Comment, mt.Broken = comment, unclosed
	mt.Type = strings.ToLower(strings.TrimSpace(segs[0]))
	for _, s := range segs[1:] {
		if strings.TrimSpace(s) == "" {
			continue
		}
		name, value, ok := mimetree.CutParam(s)
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
