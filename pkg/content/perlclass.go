package content

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// set is a named character set: \d, \w, \s, \h, \v, a POSIX class or a
// Unicode property, possibly negated.
type set struct {
	name string // "d", "w", "s", "h", "v", "N", "posix:alpha", "p:L"
	neg  bool
	tab  *unicode.RangeTable // for Unicode properties
}

// class is a bracket expression or a shorthand class.
type class struct {
	neg    bool
	ranges []rune // pairs lo, hi
	sets   []set
}

// spaceRunes is \s: Perl's white space for character strings (ASCII
// blanks, vertical tab, NEL and every Unicode space separator), so that
// rules such as "\s{10,}" see no-break and ideographic spaces too.
func isSpaceRune(r rune) bool {
	return r >= '\t' && r <= '\r' || r == ' ' || r == 0x85 || unicode.Is(unicode.Zs, r) ||
		r == 0x2028 || r == 0x2029
}

func isHSpace(r rune) bool { return r == '\t' || r == ' ' || unicode.Is(unicode.Zs, r) }
func isVSpace(r rune) bool { return r >= '\n' && r <= '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 }

// isWordRune is \w as RE2 has it (ASCII), which keeps \b in both engines alike.
func isWordRune(r rune) bool {
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

var posixClasses = map[string]func(rune) bool{
	"alpha": func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) },
	"digit": func(r rune) bool { return r >= '0' && r <= '9' },
	"alnum": func(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) },
	"upper": func(r rune) bool { return r >= 'A' && r <= 'Z' },
	"lower": func(r rune) bool { return r >= 'a' && r <= 'z' },
	"space": func(r rune) bool { return r >= '\t' && r <= '\r' || r == ' ' },
	"blank": func(r rune) bool { return r == ' ' || r == '\t' },
	"punct": func(r rune) bool {
		return r < 0x80 && r > ' ' && r != 0x7f && !unicode.IsLetter(r) && !unicode.IsDigit(r)
	},
	"print": func(r rune) bool { return r >= ' ' && r < 0x7f },
	"graph": func(r rune) bool { return r > ' ' && r < 0x7f },
	"cntrl": func(r rune) bool { return r < ' ' || r == 0x7f },
	"xdigit": func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
	},
	"word":  isWordRune,
	"ascii": func(r rune) bool { return r < 0x80 },
}

func (s set) has(r rune) bool {
	var in bool
	switch {
	case s.name == "d":
		in = r >= '0' && r <= '9'
	case s.name == "w":
		in = isWordRune(r)
	case s.name == "s":
		in = isSpaceRune(r)
	case s.name == "h":
		in = isHSpace(r)
	case s.name == "v":
		in = isVSpace(r)
	case s.name == "N":
		in = r != '\n'
	case s.tab != nil:
		in = unicode.Is(s.tab, r)
	case strings.HasPrefix(s.name, "posix:"):
		in = posixClasses[s.name[6:]](r)
	}
	return in != s.neg
}

// has reports whether r is in the class, ignoring case when fold is
// set. As in Perl, a negated member under /i is the complement of the
// member with case ignored: (?i)\P{Lu} matches neither "A" nor "a".
func (c *class) has(r rune, fold bool) bool {
	in := false
	for i := 0; i+1 < len(c.ranges) && !in; i += 2 {
		lo, hi := c.ranges[i], c.ranges[i+1]
		in = anyFold(r, fold, func(x rune) bool { return x >= lo && x <= hi })
	}
	for j := 0; j < len(c.sets) && !in; j++ {
		s := c.sets[j]
		pos := set{name: s.name, tab: s.tab}
		in = anyFold(r, fold, pos.has) != s.neg
	}
	return in != c.neg
}

// anyFold reports whether f holds for r or, when fold is set, for any
// rune of r's case-folding orbit.
func anyFold(r rune, fold bool, f func(rune) bool) bool {
	if f(r) {
		return true
	}
	if fold {
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			if f(x) {
				return true
			}
		}
	}
	return false
}

// class parses a bracket expression after '['.
func (p *parser) class() (*class, error) {
	start := p.pos - 1
	c := &class{}
	if p.peek() == '^' {
		c.neg = true
		p.pos++
	}
	first := true
	for {
		if !p.more() {
			return nil, fmt.Errorf("missing ] for the class at offset %d", start)
		}
		if p.peek() == ']' && !first {
			p.pos++
			return c, nil
		}
		first = false
		lo, s, err := p.classItem()
		if err != nil {
			return nil, err
		}
		if s != nil {
			c.sets = append(c.sets, *s)
			continue
		}
		hi := lo
		if p.pos+1 < len(p.src) && p.peek() == '-' && p.src[p.pos+1] != ']' {
			p.pos++
			var s2 *set
			if hi, s2, err = p.classItem(); err != nil {
				return nil, err
			}
			if s2 != nil || hi < lo {
				return nil, fmt.Errorf("bad range in the class at offset %d", start)
			}
		}
		c.ranges = append(c.ranges, lo, hi)
	}
}

// classItem reads one member of a class: a rune, or a named set.
func (p *parser) classItem() (rune, *set, error) {
	c := p.src[p.pos]
	p.pos++
	if c == '[' && p.peek() == ':' {
		if s, ok, err := p.posixClass(); ok || err != nil {
			return 0, s, err
		}
	}
	if c != '\\' {
		return c, nil, nil
	}
	if !p.more() {
		return 0, nil, fmt.Errorf("trailing \\")
	}
	e := p.src[p.pos]
	p.pos++
	if s, ok, err := p.namedSet(e); ok || err != nil {
		return 0, s, err
	}
	if e == 'b' {
		return '\b', nil, nil
	}
	r, err := p.escapedRune(e)
	return r, nil, err
}

// posixClass reads "[:name:]" or "[:^name:]" after the '['; ok is false
// (and nothing is read) when the text there is not of that form.
func (p *parser) posixClass() (*set, bool, error) {
	i := p.pos + 1
	neg := i < len(p.src) && p.src[i] == '^'
	if neg {
		i++
	}
	start := i
	for i < len(p.src) && (p.src[i] >= 'a' && p.src[i] <= 'z') {
		i++
	}
	if i+1 >= len(p.src) || p.src[i] != ':' || p.src[i+1] != ']' || i == start {
		return nil, false, nil
	}
	name := string(p.src[start:i])
	if _, ok := posixClasses[name]; !ok {
		return nil, true, fmt.Errorf("unknown POSIX class [:%s:]", name)
	}
	p.pos = i + 2
	return &set{name: "posix:" + name, neg: neg}, true, nil
}

// namedSet reads \d \D \w \W \s \S \h \H \v \V \N \p{..} \P{..}, after
// the letter e.
func (p *parser) namedSet(e rune) (*set, bool, error) {
	switch e {
	case 'd', 'w', 's', 'h', 'v':
		return &set{name: string(e)}, true, nil
	case 'D', 'W', 'S', 'H', 'V':
		return &set{name: strings.ToLower(string(e)), neg: true}, true, nil
	case 'N':
		if p.peek() == '{' {
			return nil, true, fmt.Errorf("\\N{...} is not supported")
		}
		return &set{name: "N"}, true, nil
	case 'p', 'P':
		name := ""
		if p.peek() == '{' {
			end := p.index(p.pos, '}')
			if end < 0 {
				return nil, true, fmt.Errorf("missing } after \\%c", e)
			}
			name = string(p.src[p.pos+1 : p.pos+end])
			p.pos += end + 1
		} else if p.more() {
			name = string(p.src[p.pos])
			p.pos++
		}
		neg := e == 'P'
		if strings.HasPrefix(name, "^") {
			name, neg = name[1:], !neg
		}
		tab := unicode.Categories[name]
		if tab == nil {
			tab = unicode.Scripts[name]
		}
		if tab == nil {
			return nil, true, fmt.Errorf("unknown Unicode property \\%c{%s}", e, name)
		}
		return &set{name: "p:" + name, neg: neg, tab: tab}, true, nil
	}
	return nil, false, nil
}

// escapedRune reads the rune of an escape such as \n, \x41, \x{263a},
// \101, \cA or \., after the letter e.
func (p *parser) escapedRune(e rune) (rune, error) {
	switch e {
	case 'n':
		return '\n', nil
	case 't':
		return '\t', nil
	case 'r':
		return '\r', nil
	case 'f':
		return '\f', nil
	case 'e':
		return 0x1b, nil
	case 'a':
		return 0x07, nil
	case 'c':
		if !p.more() {
			return 0, fmt.Errorf("trailing \\c")
		}
		c := unicode.ToUpper(p.src[p.pos])
		p.pos++
		return c ^ 0x40, nil
	case 'x':
		return p.hexRune()
	case 'o':
		return p.bracedNumber(8)
	case '0':
		return p.octal(0, 2)
	}
	if e >= '1' && e <= '7' { // inside a class, \1 is octal
		return p.octal(e-'0', 2)
	}
	if strings.ContainsRune("KRXC89", e) {
		return 0, fmt.Errorf("escape \\%c is not supported", e)
	}
	// Any other escaped character stands for itself. \Q, \U and \L too:
	// they act only where Perl interpolates a string, and MailScanner
	// hands the rule text to the regexp engine from a variable.
	return e, nil
}

func (p *parser) octal(v rune, more int) (rune, error) {
	for ; more > 0 && p.more() && p.peek() >= '0' && p.peek() <= '7'; more-- {
		v = v*8 + p.peek() - '0'
		p.pos++
	}
	return v, nil
}

func (p *parser) hexRune() (rune, error) {
	if p.peek() == '{' {
		return p.bracedNumber(16)
	}
	v, n := rune(0), 0
	for ; n < 2 && p.more() && isHex(p.peek()); n++ {
		d, _ := strconv.ParseUint(string(p.peek()), 16, 8)
		v = v*16 + rune(d)
		p.pos++
	}
	return v, nil
}

func (p *parser) bracedNumber(base int) (rune, error) {
	if p.peek() != '{' {
		return 0, fmt.Errorf("missing { after an escape at offset %d", p.pos)
	}
	end := p.index(p.pos, '}')
	if end < 0 {
		return 0, fmt.Errorf("missing } at offset %d", p.pos)
	}
	digits := strings.TrimSpace(string(p.src[p.pos+1 : p.pos+end]))
	p.pos += end + 1
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || v > unicode.MaxRune {
		return 0, fmt.Errorf("bad character code %q", digits)
	}
	return rune(v), nil
}

// index returns the offset, in runes from from, of the first r at or
// after from; -1 when there is none.
func (p *parser) index(from int, r rune) int {
	for i := from; i < len(p.src); i++ {
		if p.src[i] == r {
			return i - from
		}
	}
	return -1
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

// escape parses an escape outside a class, after '\'.
func (p *parser) escape() (*node, error) {
	if !p.more() {
		return nil, fmt.Errorf("trailing \\")
	}
	e := p.src[p.pos]
	p.pos++
	if s, ok, err := p.namedSet(e); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return p.newNode(node{op: opClass, cls: &class{sets: []set{*s}}, fold: p.fl.fold})
	}
	switch e {
	case 'A', 'G': // \G: no previous match, so the start
		return p.newNode(node{op: opBOT})
	case 'z':
		return p.newNode(node{op: opEOT})
	case 'Z':
		return p.newNode(node{op: opEOTNL})
	case 'b':
		return p.newNode(node{op: opWord})
	case 'B':
		return p.newNode(node{op: opNotWord})
	case 'g', 'k':
		return p.namedRef(e)
	}
	if e >= '1' && e <= '9' {
		start := p.pos
		n := int(e - '0')
		for p.more() && p.peek() >= '0' && p.peek() <= '9' && n < 100 {
			n = n*10 + int(p.peek()-'0')
			p.pos++
		}
		if n > 9 && n > p.groups && e <= '7' {
			// Perl: \10 and up refer to a group only when that many
			// groups have opened; otherwise they are octal codes.
			p.pos = start
			r, _ := p.octal(e-'0', 2)
			return p.lit(r)
		}
		p.perl = true
		return p.newNode(node{op: opBackref, n: n, fold: p.fl.fold})
	}
	r, err := p.escapedRune(e)
	if err != nil {
		return nil, err
	}
	return p.lit(r)
}

// namedRef reads \g1, \g{1}, \g{-1}, \g{name}, \k<name>, \k{name}, \k'name'.
func (p *parser) namedRef(e rune) (*node, error) {
	var ref string
	switch {
	case e == 'g' && p.peek() >= '0' && p.peek() <= '9':
		for p.more() && p.peek() >= '0' && p.peek() <= '9' {
			ref += string(p.peek())
			p.pos++
		}
	case p.peek() == '{' || p.peek() == '<' || p.peek() == '\'':
		end := map[rune]rune{'{': '}', '<': '>', '\'': '\''}[p.peek()]
		i := p.index(p.pos+1, end)
		if i < 0 {
			return nil, fmt.Errorf("unclosed \\%c reference", e)
		}
		ref = string(p.src[p.pos+1 : p.pos+1+i])
		p.pos += i + 2
	default:
		return nil, fmt.Errorf("bad \\%c reference at offset %d", e, p.pos)
	}
	n, err := strconv.Atoi(ref)
	switch {
	case err == nil && n < 0:
		n = p.groups + 1 + n
	case err != nil:
		var ok bool
		if n, ok = p.names[ref]; !ok {
			return nil, fmt.Errorf("reference to an unknown group %q", ref)
		}
	}
	p.perl = true
	return p.newNode(node{op: opBackref, n: n, fold: p.fl.fold})
}
