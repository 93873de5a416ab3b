package content

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pattern is one Perl regular expression of a rule file, matched as
// MailScanner does (case-insensitive, "." matching a newline). It runs as
// a Go regexp (linear time) when RE2 can express it, and otherwise by a
// backtracking matcher bounded by PatternSteps.
type Pattern struct {
	Source string         // as written in the rule file
	re     *regexp.Regexp // nil: backtracking
	tree   *node
	groups int
}

// CompilePattern parses a Perl expression. Constructs Perl has and this
// matcher does not (code, recursion, conditionals, \K ...) are errors
// naming the construct.
func CompilePattern(src string) (*Pattern, error) {
	tree, p, err := parsePerl(src, flags{fold: true, dotNL: true})
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v: %w", src, err, ErrSyntax)
	}
	pat := &Pattern{Source: src, tree: tree, groups: p.groups}
	if !p.perl {
		var b strings.Builder
		if emitGo(&b, tree, true) {
			// The tree was written by us: a compile error here is a bug,
			// and the backtracking matcher still serves.
			pat.re, _ = regexp.Compile(b.String())
		}
	}
	return pat, nil
}

// Backtracking reports whether the pattern needs the backtracking matcher.
func (p *Pattern) Backtracking() bool { return p.re == nil }

// MatchString reports whether s contains a match. The error is
// ErrPatternBudget when the match could not be decided within the budget.
func (p *Pattern) MatchString(s string) (bool, error) {
	if p.re != nil {
		return p.re.MatchString(s), nil
	}
	_, _, ok, err := newMatcher([]rune(s), p.groups).find(p.tree)
	return ok, err
}

// FindIndex returns the byte offsets of the leftmost match in s.
func (p *Pattern) FindIndex(s string) (loc []int, err error) {
	if p.re != nil {
		return p.re.FindStringIndex(s), nil
	}
	runes := []rune(s)
	a, b, ok, err := newMatcher(runes, p.groups).find(p.tree)
	if !ok {
		return nil, err
	}
	return []int{runeOffset(s, a), runeOffset(s, b)}, nil
}

// findGroups returns the byte offsets of the leftmost match (loc) and
// of every group of it (groups[2n], groups[2n+1]; -1 when unset).
func (p *Pattern) findGroups(s string) (loc, groups []int, err error) {
	if p.re != nil {
		g := p.re.FindStringSubmatchIndex(s)
		if g == nil {
			return nil, nil, nil
		}
		return g[:2], g, nil
	}
	m := newMatcher([]rune(s), p.groups)
	a, b, ok, err := m.find(p.tree)
	if !ok {
		return nil, nil, err
	}
	m.caps[0], m.caps[1] = a, b
	groups = make([]int, len(m.caps))
	for i, c := range m.caps {
		groups[i] = -1
		if c >= 0 {
			groups[i] = runeOffset(s, c)
		}
	}
	return groups[:2], groups, nil
}

// runeOffset converts a rune index of s to a byte offset.
func runeOffset(s string, n int) int {
	off := 0
	for ; n > 0 && off < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// emitGo writes n as RE2 syntax with the same meaning; false when it
// cannot (a construct only the backtracking matcher runs). tail says
// nothing follows n in a match: only there can Perl's $ (end, or before a
// final newline) be written as RE2's \n?\z, which takes the newline.
func emitGo(b *strings.Builder, n *node, tail bool) bool {
	switch n.op {
	case opLit:
		b.WriteString(flagged(n.fold, regexp.QuoteMeta(string(n.r))))
	case opAny:
		b.WriteString(map[bool]string{true: `(?s:.)`, false: `(?-s:.)`}[n.dotNL])
	case opClass:
		cls, ok := goClass(n.cls)
		if !ok {
			return false
		}
		b.WriteString(flagged(n.fold, cls))
	case opBegin:
		b.WriteString(map[bool]string{true: `(?m:^)`, false: `\A`}[n.multi])
	case opEnd:
		if !n.multi && !tail {
			return false
		}
		b.WriteString(map[bool]string{true: `(?m:$)`, false: `(?:\n?\z)`}[n.multi])
	case opBOT:
		b.WriteString(`\A`)
	case opEOT:
		b.WriteString(`\z`)
	case opEOTNL:
		if !tail {
			return false
		}
		b.WriteString(`(?:\n?\z)`)
	case opWord:
		b.WriteString(`\b`)
	case opNotWord:
		b.WriteString(`\B`)
	case opGroup:
		b.WriteString("(") // capturing, numbered as in the Perl text
		ok := emitGo(b, n.subs[0], tail)
		b.WriteString(")")
		return ok
	case opConcat, opAlt:
		return emitList(b, n, tail)
	case opRepeat:
		b.WriteString("(?:")
		if !emitGo(b, n.subs[0], false) {
			return false
		}
		b.WriteString(")")
		b.WriteString(quant(n))
	default:
		return false
	}
	return true
}

func emitList(b *strings.Builder, n *node, tail bool) bool {
	b.WriteString("(?:")
	for i, s := range n.subs {
		if i > 0 && n.op == opAlt {
			b.WriteString("|")
		}
		if !emitGo(b, s, tail && (n.op == opAlt || i == len(n.subs)-1)) {
			return false
		}
	}
	b.WriteString(")")
	return true
}

func flagged(fold bool, s string) string {
	if fold {
		return "(?i:" + s + ")"
	}
	return s
}

func quant(n *node) string {
	var q string
	switch {
	case n.min == 0 && n.max < 0:
		q = "*"
	case n.min == 1 && n.max < 0:
		q = "+"
	case n.min == 0 && n.max == 1:
		q = "?"
	case n.max < 0:
		q = "{" + strconv.Itoa(n.min) + ",}"
	case n.min == n.max:
		q = "{" + strconv.Itoa(n.min) + "}"
	default:
		q = "{" + strconv.Itoa(n.min) + "," + strconv.Itoa(n.max) + "}"
	}
	if n.lazy {
		q += "?"
	}
	return q
}

// goSets are the RE2 class members of the named sets.
var goSets = map[string]string{
	"d": `0-9`, "w": `0-9A-Za-z_`, "s": `\t-\r \x{85}\p{Zs}\x{2028}\x{2029}`,
	"h": `\t \p{Zs}`, "v": `\n-\r\x{85}\x{2028}\x{2029}`,
	"posix:alpha": `A-Za-z`, "posix:digit": `0-9`, "posix:alnum": `0-9A-Za-z`, "posix:upper": `A-Z`,
	"posix:lower": `a-z`, "posix:space": `\t-\r `, "posix:blank": `\t `, "posix:punct": `!-/:-@\[-` + "`" + `{-~`,
	"posix:print": ` -~`, "posix:graph": `!-~`, "posix:cntrl": `\x00-\x1f\x7f`, "posix:xdigit": `0-9A-Fa-f`,
	"posix:word": `0-9A-Za-z_`, "posix:ascii": `\x00-\x7f`,
}

// goClass writes a class for RE2. A negated named set can stand alone
// (\S as [^...]) but not beside other members: RE2 has no class
// difference, so such a class stays with the backtracking matcher.
func goClass(c *class) (string, bool) {
	var b strings.Builder
	neg := c.neg
	if len(c.sets) == 1 && len(c.ranges) == 0 && c.sets[0].neg {
		neg = !neg
	}
	b.WriteString("[")
	if neg {
		b.WriteString("^")
	}
	for i := 0; i+1 < len(c.ranges); i += 2 {
		b.WriteString(classRune(c.ranges[i]))
		if c.ranges[i+1] != c.ranges[i] {
			b.WriteString("-" + classRune(c.ranges[i+1]))
		}
	}
	for _, s := range c.sets {
		if s.neg && (len(c.sets) > 1 || len(c.ranges) > 0) {
			return "", false
		}
		switch {
		case s.name == "N":
			b.WriteString(`\x00-\x09\x0b-\x{10ffff}`)
		case s.tab != nil:
			b.WriteString(`\p{` + s.name[2:] + `}`)
		default:
			b.WriteString(goSets[s.name])
		}
	}
	b.WriteString("]")
	return b.String(), true
}

func classRune(r rune) string {
	return fmt.Sprintf(`\x{%x}`, r)
}
