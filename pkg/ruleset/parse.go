package ruleset

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// direction says what a clause compares its patterns with.
type direction uint8

const (
	dirFrom  direction = 1 << iota // the sender (address, client IP, host)
	dirTo                          // one recipient
	dirVirus                       // the virus names and report texts
)

// clause is one "Direction pattern" half of a rule; it matches when any of
// its patterns does (more than one comes from a pattern file).
type clause struct {
	dir   direction
	every bool // the To side of FromAndTo: every recipient must match
	pats  []pattern
}

// rule is one line of a ruleset file.
type rule struct {
	file    string
	line    int
	clauses []clause
	value   string
}

// parser collects every problem instead of stopping at the first.
type parser struct {
	opt     Options
	rs      *Ruleset
	errs    Errors
	count   int // rules plus patterns read from pattern files
	stopped bool
}

// Parse parses ruleset data read from the file called name (used in error
// messages and Explain). Every problem is reported at once as Errors.
func Parse(name string, data []byte, opt Options) (*Ruleset, error) {
	opt = opt.withDefaults()
	if int64(len(data)) > opt.MaxFileSize {
		return nil, fmt.Errorf("ruleset parse %s: %d bytes, more than %d: %w", name, len(data), opt.MaxFileSize, ErrLimit)
	}
	p := &parser{opt: opt, rs: &Ruleset{name: name, maxAddr: opt.MaxAddress}}
	var defLine int
	for i, line := range strings.Split(string(data), "\n") {
		if p.stopped {
			break
		}
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if len(line) > opt.MaxLineLength {
			p.errorf(name, n, ErrLimit, "line is %d bytes, more than %d", len(line), opt.MaxLineLength)
			continue
		}
		r, isDefault, ok := p.parseLine(name, n, line)
		switch {
		case !ok:
		case isDefault && p.rs.def != nil:
			p.errorf(name, n, ErrDuplicateDefault, "second default value (first at %s:%d)", name, defLine)
		case isDefault:
			p.rs.def, defLine = &r, n
		default:
			p.rs.rules = append(p.rs.rules, r)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.rs, nil
}

func (p *parser) errorf(file string, line int, sentinel error, format string, args ...any) {
	p.errs = append(p.errs, &LineError{File: file, Line: line, Text: fmt.Sprintf(format, args...), Err: sentinel})
}

// stripComment removes a "#" comment that starts the line or follows white
// space; a "#" inside a word (a value like "ticket#1") is kept.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// nextField splits off the first white-space separated field.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// parseDirection maps a direction word to its bits; FromAndTo is reported
// through both, with isAnd.
func parseDirection(word string) (d direction, isAnd bool, ok bool) {
	var b strings.Builder
	for _, c := range strings.ToLower(word) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	switch b.String() {
	case "from":
		return dirFrom, false, true
	case "to":
		return dirTo, false, true
	case "fromorto":
		return dirFrom | dirTo, false, true
	case "fromandto":
		return dirFrom | dirTo, true, true
	case "virus":
		return dirVirus, false, true
	}
	return 0, false, false
}

const wantDirections = "want From:, To:, FromOrTo:, FromAndTo: or Virus:"

// parseLine parses one line; ok is false for blank lines and errors.
func (p *parser) parseLine(file string, n int, line string) (r rule, isDefault, ok bool) {
	line = strings.TrimSpace(stripComment(line))
	if line == "" {
		return r, false, false
	}
	r = rule{file: file, line: n}
	word, rest := nextField(line)
	if strings.EqualFold(word, "default") {
		r.value = strings.TrimSpace(rest)
		if r.value == "" {
			p.errorf(file, n, ErrSyntax, "default without a value")
			return r, false, false
		}
		return r, true, p.count1(file, n)
	}
	pat, rest := nextField(rest)
	and, rest2 := nextField(rest)
	if strings.EqualFold(and, "and") && strings.TrimSpace(rest2) != "" {
		return p.parseAnd(r, word, pat, rest2)
	}
	r.value = strings.TrimSpace(rest)
	if !p.checkShape(file, n, word, pat, r.value) {
		return r, false, false
	}
	if isDefaultPattern(pat) {
		return r, true, p.count1(file, n)
	}
	cls, good := p.clauses(file, n, word, pat)
	r.clauses = cls
	return r, false, good && p.count1(file, n)
}

// parseAnd parses the rest of "Dir1 pat1 and Dir2 pat2 value".
func (p *parser) parseAnd(r rule, word1, pat1, rest string) (rule, bool, bool) {
	word2, rest := nextField(rest)
	pat2, rest := nextField(rest)
	r.value = strings.TrimSpace(rest)
	if !p.checkShape(r.file, r.line, word1, pat1, "-") || !p.checkShape(r.file, r.line, word2, pat2, r.value) {
		return r, false, false
	}
	if w, _ := nextField(r.value); strings.EqualFold(w, "and") {
		if _, rest := nextField(r.value); strings.TrimSpace(rest) != "" {
			p.errorf(r.file, r.line, ErrSyntax, "only one 'and' clause allowed")
			return r, false, false
		}
	}
	if strings.EqualFold(pat1, "default") || strings.EqualFold(pat2, "default") {
		p.errorf(r.file, r.line, ErrPattern, "'default' cannot be part of an 'and' rule (use *)")
		return r, false, false
	}
	c1, ok1 := p.clauses(r.file, r.line, word1, pat1)
	c2, ok2 := p.clauses(r.file, r.line, word2, pat2)
	r.clauses = append(c1, c2...)
	return r, false, ok1 && ok2 && p.count1(r.file, r.line)
}

// checkShape reports an unknown direction, a missing pattern or value.
func (p *parser) checkShape(file string, n int, word, pat, value string) bool {
	if _, _, ok := parseDirection(word); !ok {
		p.errorf(file, n, ErrUnknownDirection, "unknown direction %q (%s)", word, wantDirections)
		return false
	}
	if pat == "" {
		p.errorf(file, n, ErrSyntax, "%s without a pattern", word)
		return false
	}
	if value == "" {
		p.errorf(file, n, ErrSyntax, "%s %s without a value", word, pat)
		return false
	}
	return true
}

func isDefaultPattern(pat string) bool {
	return strings.EqualFold(pat, "default") || pat == "*" || pat == "*@*"
}

// count1 counts one rule against MaxRules; false (and stop) when over.
func (p *parser) count1(file string, n int) bool {
	p.count++
	if p.count > p.opt.MaxRules {
		p.errorf(file, n, ErrLimit, "more than %d rules and patterns", p.opt.MaxRules)
		p.stopped = true
		return false
	}
	return true
}

// clauses compiles "word pat" into one clause, or two for FromAndTo.
func (p *parser) clauses(file string, n int, word, pat string) ([]clause, bool) {
	d, isAnd, _ := parseDirection(word)
	if isAnd {
		a, ok1 := p.clause(file, n, dirFrom, pat, 0)
		b, ok2 := p.clause(file, n, dirTo, pat, 0)
		b.every = true
		return []clause{a, b}, ok1 && ok2
	}
	c, ok := p.clause(file, n, d, pat, 0)
	return []clause{c}, ok
}

// clause compiles one pattern (or pattern file) for direction d.
func (p *parser) clause(file string, n int, d direction, pat string, depth int) (clause, bool) {
	c := clause{dir: d}
	if _, isRe := regexBody(pat); strings.HasPrefix(pat, "/") && !isRe {
		pats, ok := p.patternFile(file, n, d, pat, depth+1)
		c.pats = pats
		return c, ok
	}
	var pt pattern
	var err error
	if d == dirVirus {
		pt, err = compileVirus(pat)
	} else {
		pt, err = compileAddr(pat)
	}
	if err == nil && d == dirTo && pt.needsClient() {
		err = fmt.Errorf("pattern %q matches the client, not a recipient (use From: or FromOrTo:)", pat)
	}
	if err != nil {
		p.errs = append(p.errs, &LineError{File: file, Line: n, Text: err.Error(), Err: ErrPattern})
		return c, false
	}
	p.rs.usesHost = p.rs.usesHost || pt.isHost()
	c.pats = []pattern{pt}
	return c, true
}

// patternFile reads a file of patterns, one per line, for direction d.
func (p *parser) patternFile(file string, n int, d direction, path string, depth int) ([]pattern, bool) {
	if depth > p.opt.MaxNesting {
		p.errorf(file, n, ErrLimit, "pattern file %s: nested more than %d deep", path, p.opt.MaxNesting)
		return nil, false
	}
	data, err := readBounded(path, p.opt)
	if err != nil {
		sentinel := ErrPattern
		if errors.Is(err, ErrLimit) {
			sentinel = ErrLimit
		}
		p.errorf(file, n, sentinel, "pattern file: %v", err)
		return nil, false
	}
	var pats []pattern
	good := true
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(stripComment(strings.TrimSuffix(line, "\r")))
		switch {
		case p.stopped:
			return pats, false
		case line == "":
			continue
		case len(line) > p.opt.MaxLineLength:
			p.errorf(path, i+1, ErrLimit, "line is %d bytes, more than %d", len(line), p.opt.MaxLineLength)
			good = false
			continue
		}
		if !p.count1(path, i+1) {
			return pats, false
		}
		c, ok := p.clause(path, i+1, d, line, depth)
		good = good && ok
		pats = append(pats, c.pats...)
	}
	return pats, good
}

func sortErrors(errs Errors) {
	slices.SortStableFunc(errs, func(a, b *LineError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}
