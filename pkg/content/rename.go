package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultRenamePattern is MailScanner's "Default Rename Pattern": the
// name a plain "rename" rule gives a file, __FILENAME__ standing for its
// name.
const DefaultRenamePattern = "__FILENAME__.disarmed"

// renamed returns the name rule r gives the file called name: "rename to
// TEXT" replaces the first match of the rule's pattern by TEXT ($1 ...
// $9, ${1} ... and \1 ... \9 name its groups), as s/PATTERN/TEXT/i; a
// plain "rename" uses the rename pattern. A pattern that cannot be
// searched within its budget, or matches nothing (a filetype rule),
// falls back to the rename pattern.
func (c *Checker) renamed(r *Rule, name string) string {
	pat := c.opts.RenamePattern
	if pat == "" {
		pat = DefaultRenamePattern
	}
	if !strings.Contains(strings.ToUpper(pat), "__FILENAME__") {
		pat = "__FILENAME__" + pat // a bare suffix, as MailScanner reads it
	}
	if r.RenameTo != "" && r.Pattern != nil {
		if loc, groups, err := r.Pattern.findGroups(name); err == nil && loc != nil {
			return name[:loc[0]] + expand(r.RenameTo, name, groups) + name[loc[1]:]
		}
	}
	i := strings.Index(strings.ToUpper(pat), "__FILENAME__")
	return pat[:i] + name + pat[i+len("__FILENAME__"):]
}

// expand replaces $N, ${N} and \N in text by group N of the match in s
// (groups holds byte offsets, -1 for a group that did not take part).
func expand(text, s string, groups []int) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && i+1 < len(text) && text[i+1] >= '1' && text[i+1] <= '9' {
			c = '$' // \1 as Perl's replacement reads it: group 1
		}
		if c != '$' || i+1 == len(text) {
			b.WriteByte(c)
			continue
		}
		j, braced := i+1, text[i+1] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(text) && k-j < 2 && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k == j || braced && (k == len(text) || text[k] != '}') {
			b.WriteByte(c)
			continue
		}
		n := 0
		for _, d := range text[j:k] {
			n = n*10 + int(d-'0')
		}
		if 2*n+1 < len(groups) && groups[2*n] >= 0 {
			b.WriteString(s[groups[2*n]:groups[2*n+1]])
		}
		if braced {
			k++
		}
		i = k - 1
	}
	return b.String()
}

// maxRenamed bounds a renamed file's name, in bytes.
const maxRenamed = 200

// harmlessName makes the name a renamed file is delivered under safe to
// put in a header and to save: valid UTF-8, no control, format (bidi,
// zero-width) or path characters, at most maxRenamed bytes, never empty.
func harmlessName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == '"':
			return '_'
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, name)
	name = strings.TrimFunc(name, isSpaceRune)
	if len(name) > maxRenamed {
		name = name[len(name)-maxRenamed:] // keep the harmless ending
		for !utf8.ValidString(name) {
			name = name[1:]
		}
	}
	if name == "" || strings.Trim(name, ".") == "" {
		return "attachment.disarmed"
	}
	return name
}
