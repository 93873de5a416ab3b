package content

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// This file parses the Perl regular expressions of MailScanner rule files
// into a small syntax tree. The tree is either written out again as a Go
// (RE2) expression, or, when it uses what RE2 does not have
// (back-references, look-around, atomic groups, possessive quantifiers),
// run by the bounded backtracking matcher of perlmatch.go.

// op is the kind of a syntax node.
type op uint8

const (
	opLit     op = iota // one rune
	opAny               // .
	opClass             // [...], \d, \s ...
	opBegin             // ^
	opEnd               // $
	opBOT               // \A
	opEOT               // \z
	opEOTNL             // \Z: end, or before a final newline
	opWord              // \b
	opNotWord           // \B
	opConcat            // subs in sequence
	opAlt               // one of subs
	opGroup             // capturing group n around subs[0]
	opRepeat            // subs[0] repeated min..max (max < 0: no limit)
	opBackref           // \n
	opLook              // look-ahead or look-behind (behind, neg)
	opAtomic            // (?>...), and possessive quantifiers
)

// maxRepeat bounds a counted repetition, as RE2 does.
const maxRepeat = 1000

// maxPatternNodes bounds the syntax tree of one expression.
const maxPatternNodes = 10000

// node is one element of a parsed expression.
type node struct {
	op       op
	r        rune
	fold     bool // case-insensitive literal, class or back-reference
	dotNL    bool // . matches a newline (/s)
	multi    bool // ^ and $ match at line breaks (/m)
	cls      *class
	subs     []*node
	min, max int
	lazy     bool
	n        int // group or back-reference number
	behind   bool
	neg      bool
}

// flags are the inline modifiers in force: MailScanner matches with /is.
type flags struct{ fold, dotNL, multi bool }

type parser struct {
	src    []rune
	pos    int
	fl     flags
	groups int
	names  map[string]int
	nodes  int
	perl   bool // uses a construct RE2 does not have
}

// parsePerl parses a Perl expression matched with flags fl.
func parsePerl(src string, fl flags) (*node, *parser, error) {
	p := &parser{src: []rune(src), fl: fl, names: map[string]int{}}
	n, err := p.alt()
	if err == nil && p.pos < len(p.src) {
		err = fmt.Errorf("unmatched ) at offset %d", p.pos)
	}
	if err == nil {
		err = p.checkRefs(n)
	}
	return n, p, err
}

func (p *parser) more() bool { return p.pos < len(p.src) }
func (p *parser) peek() rune {
	if p.more() {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) newNode(n node) (*node, error) {
	p.nodes++
	if p.nodes > maxPatternNodes {
		return nil, fmt.Errorf("expression too large (over %d elements)", maxPatternNodes)
	}
	return &n, nil
}

// alt parses alternatives up to a ')' or the end.
func (p *parser) alt() (*node, error) {
	saved := p.fl
	defer func() { p.fl = saved }()
	var alts []*node
	for {
		c, err := p.concat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
		if p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return p.newNode(node{op: opAlt, subs: alts})
}

// concat parses atoms and their quantifiers up to '|', ')' or the end.
func (p *parser) concat() (*node, error) {
	var seq []*node
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		a, err := p.atom()
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue // a comment or an inline flag
		}
		if a, err = p.quantifier(a); err != nil {
			return nil, err
		}
		seq = append(seq, a)
	}
	return p.newNode(node{op: opConcat, subs: seq})
}

func (p *parser) atom() (*node, error) {
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '(':
		return p.group()
	case '[':
		cl, err := p.class()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{op: opClass, cls: cl, fold: p.fl.fold})
	case '.':
		return p.newNode(node{op: opAny, dotNL: p.fl.dotNL})
	case '^':
		return p.newNode(node{op: opBegin, multi: p.fl.multi})
	case '$':
		return p.newNode(node{op: opEnd, multi: p.fl.multi})
	case '\\':
		return p.escape()
	case '*', '+', '?':
		return nil, fmt.Errorf("quantifier %c at offset %d follows nothing", c, p.pos-1)
	case '{':
		if _, _, ok := p.counted(p.pos - 1); ok {
			return nil, fmt.Errorf("quantifier at offset %d follows nothing", p.pos-1)
		}
	}
	return p.lit(c)
}

func (p *parser) lit(c rune) (*node, error) {
	return p.newNode(node{op: opLit, r: c, fold: p.fl.fold})
}

// counted reads "{n}", "{n,}" or "{n,m}" at offset at; ok is false when
// the text there is not one (Perl then reads the brace literally).
func (p *parser) counted(at int) (min, max int, ok bool) {
	end := at + 1
	for end < len(p.src) && p.src[end] != '}' && end-at < 24 {
		end++
	}
	if end >= len(p.src) || p.src[end] != '}' {
		return 0, 0, false
	}
	lo, hi, comma := strings.Cut(string(p.src[at+1:end]), ",")
	min, err := strconv.Atoi(lo)
	if err != nil || lo == "" || strings.TrimLeft(lo, "0123456789") != "" {
		return 0, 0, false
	}
	max = min
	if comma {
		max = -1
		if hi != "" {
			if max, err = strconv.Atoi(hi); err != nil || strings.TrimLeft(hi, "0123456789") != "" {
				return 0, 0, false
			}
		}
	}
	return min, max, true
}

// quantifier wraps a in the repetition that follows it, if any.
func (p *parser) quantifier(a *node) (*node, error) {
	if !p.more() {
		return a, nil
	}
	start := p.pos
	var min, max int
	switch p.peek() {
	case '*':
		min, max = 0, -1
	case '+':
		min, max = 1, -1
	case '?':
		min, max = 0, 1
	case '{':
		lo, hi, ok := p.counted(p.pos)
		if !ok {
			return a, nil
		}
		min, max = lo, hi
		for p.src[p.pos] != '}' {
			p.pos++
		}
	default:
		return a, nil
	}
	p.pos++
	if min > maxRepeat || max > maxRepeat || (max >= 0 && max < min) {
		return nil, fmt.Errorf("repetition %s at offset %d: counts over %d or reversed", string(p.src[start:p.pos]), start, maxRepeat)
	}
	rep, err := p.newNode(node{op: opRepeat, subs: []*node{a}, min: min, max: max})
	if err != nil {
		return nil, err
	}
	switch p.peek() {
	case '?':
		p.pos++
		rep.lazy = true
	case '+':
		p.pos++
		p.perl = true
		return p.newNode(node{op: opAtomic, subs: []*node{rep}})
	}
	if p.more() && strings.ContainsRune("*+?", p.peek()) {
		return nil, fmt.Errorf("nested quantifier at offset %d", p.pos)
	}
	return rep, nil
}

// group parses what follows '('.
func (p *parser) group() (*node, error) {
	start := p.pos - 1
	kind := ""
	if p.peek() == '?' {
		p.pos++
		rest := string(p.src[p.pos:min(len(p.src), p.pos+3)])
		for _, k := range []string{"<=", "<!", ":", "=", "!", ">", "#", "P<", "<", "'"} {
			if strings.HasPrefix(rest, k) {
				kind = k
				break
			}
		}
		if kind == "" {
			return p.inlineFlags(start)
		}
		p.pos += len([]rune(kind))
	}
	g := node{op: opGroup}
	switch kind {
	case "#":
		for p.more() && p.peek() != ')' {
			p.pos++
		}
		if !p.more() {
			return nil, fmt.Errorf("unclosed comment at offset %d", start)
		}
		p.pos++
		return nil, nil
	case "":
		p.groups++
		g.n = p.groups
	case "P<", "<", "'":
		name, err := p.groupName(map[string]rune{"P<": '>', "<": '>', "'": '\''}[kind])
		if err != nil {
			return nil, err
		}
		p.groups++
		g.n = p.groups
		if _, dup := p.names[name]; !dup {
			p.names[name] = g.n
		}
	case ":":
		g.op = opConcat
	case "=", "!", "<=", "<!":
		g = node{op: opLook, behind: kind[0] == '<', neg: strings.HasSuffix(kind, "!")}
		p.perl = true
	case ">":
		g.op = opAtomic
		p.perl = true
	}
	sub, err := p.alt()
	if err != nil {
		return nil, err
	}
	if p.peek() != ')' {
		return nil, fmt.Errorf("missing ) for the group at offset %d", start)
	}
	p.pos++
	g.subs = []*node{sub}
	return p.newNode(g)
}

func (p *parser) groupName(end rune) (string, error) {
	i := p.pos
	for i < len(p.src) && p.src[i] != end {
		if r := p.src[i]; !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return "", fmt.Errorf("bad group name at offset %d", p.pos)
		}
		i++
	}
	if i >= len(p.src) || i == p.pos {
		return "", fmt.Errorf("bad group name at offset %d", p.pos)
	}
	name := string(p.src[p.pos:i])
	p.pos = i + 1
	return name, nil
}

// inlineFlags reads (?imsx-imsx) or (?imsx-imsx:...), after "(?".
func (p *parser) inlineFlags(start int) (*node, error) {
	fl, on := p.fl, true
	for p.more() {
		c := p.src[p.pos]
		p.pos++
		switch c {
		case 'i':
			fl.fold = on
		case 's':
			fl.dotNL = on
		case 'm':
			fl.multi = on
		case '-':
			on = false
		case ')':
			p.fl = fl // to the end of the enclosing group
			return nil, nil
		case ':':
			saved := p.fl
			p.fl = fl
			sub, err := p.alt()
			p.fl = saved
			if err != nil {
				return nil, err
			}
			if p.peek() != ')' {
				return nil, fmt.Errorf("missing ) for the group at offset %d", start)
			}
			p.pos++
			return sub, nil
		default:
			return nil, fmt.Errorf("construct (?%c at offset %d is not supported", c, start)
		}
	}
	return nil, fmt.Errorf("unclosed group at offset %d", start)
}

// checkRefs rejects back-references to groups the expression lacks.
func (p *parser) checkRefs(n *node) error {
	if n == nil {
		return nil
	}
	if n.op == opBackref && (n.n < 1 || n.n > p.groups) {
		return fmt.Errorf("back-reference \\%d to a group that does not exist", n.n)
	}
	for _, s := range n.subs {
		if err := p.checkRefs(s); err != nil {
			return err
		}
	}
	return nil
}
