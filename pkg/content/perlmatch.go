package content

import (
	"errors"
	"unicode"
)

// ErrPatternBudget means a backtracking match gave up after
// PatternSteps steps: the result is unknown, and the caller takes the
// safe side (a deny rule counts as matching, an allow rule as not).
var ErrPatternBudget = errors.New("content: pattern match exceeds its step budget")

// PatternSteps bounds the work of one backtracking match (one rule
// against one name): every element tried at every position is a step.
const PatternSteps = 200000

// matcher runs a syntax tree against one subject by backtracking, with
// continuations: each element calls k with the position after it, and
// a false return means "try something else".
type matcher struct {
	s     []rune
	caps  []int // start, end per group; -1 unset
	steps int
	over  bool
}

func newMatcher(s []rune, groups int) *matcher {
	m := &matcher{s: s, caps: make([]int, 2*(groups+1)), steps: PatternSteps}
	for i := range m.caps {
		m.caps[i] = -1
	}
	return m
}

func (m *matcher) step() bool {
	m.steps--
	if m.steps < 0 {
		m.over = true
	}
	return !m.over
}

// find returns the leftmost match of n in m.s, in runes.
func (m *matcher) find(n *node) (start, end int, ok bool, err error) {
	lead := leading(n)
	for start = 0; start <= len(m.s); start++ {
		if lead != nil && (start == len(m.s) || !m.one(lead, m.s[start])) {
			continue // cannot start here: no step spent
		}
		end = -1
		if m.match(n, start, func(e int) bool { end = e; return true }) {
			return start, end, true, nil
		}
		if m.over {
			return 0, 0, false, ErrPatternBudget
		}
		if anchoredStart(n) {
			break
		}
	}
	return 0, 0, false, nil
}

// leading returns the single-rune element every match of n starts with,
// or nil.
func leading(n *node) *node {
	for {
		switch {
		case single(n):
			return n
		case n.op == opConcat && len(n.subs) > 0, n.op == opGroup, n.op == opAtomic:
			n = n.subs[0]
		case n.op == opRepeat && n.min > 0:
			n = n.subs[0]
		default:
			return nil
		}
	}
}

// anchoredStart reports whether n can only match at offset 0.
func anchoredStart(n *node) bool {
	for n.op == opConcat && len(n.subs) > 0 {
		n = n.subs[0]
	}
	return n.op == opBOT || n.op == opBegin && !n.multi
}

func (m *matcher) match(n *node, i int, k func(int) bool) bool {
	if !m.step() {
		return false
	}
	s := m.s
	switch n.op {
	case opLit, opAny, opClass:
		return i < len(s) && m.one(n, s[i]) && k(i+1)
	case opBegin:
		return (i == 0 || n.multi && s[i-1] == '\n') && k(i)
	case opEnd:
		return (i == len(s) || s[i] == '\n' && (n.multi || i == len(s)-1)) && k(i)
	case opBOT:
		return i == 0 && k(i)
	case opEOT:
		return i == len(s) && k(i)
	case opEOTNL:
		return (i == len(s) || i == len(s)-1 && s[i] == '\n') && k(i)
	case opWord, opNotWord:
		before := i > 0 && isWordRune(s[i-1])
		after := i < len(s) && isWordRune(s[i])
		return (before != after) == (n.op == opWord) && k(i)
	case opConcat:
		return m.seq(n.subs, 0, i, k)
	case opAlt:
		for _, a := range n.subs {
			if m.match(a, i, k) {
				return true
			}
			if m.over {
				return false
			}
		}
		return false
	case opGroup:
		return m.group(n, i, k)
	case opRepeat:
		if single(n.subs[0]) {
			return m.repeatOne(n, i, k)
		}
		return m.repeat(n, i, 0, k)
	case opBackref:
		return m.backref(n, i, k)
	case opLook:
		return m.look(n, i, k)
	case opAtomic:
		return m.atomic(n, i, k)
	}
	return false
}

// one reports whether the single-rune element n accepts r.
func (m *matcher) one(n *node, r rune) bool {
	switch n.op {
	case opLit:
		return r == n.r || n.fold && foldEq(r, n.r)
	case opAny:
		return n.dotNL || r != '\n'
	case opClass:
		return n.cls.has(r, n.fold)
	}
	return false
}

func single(n *node) bool { return n.op == opLit || n.op == opAny || n.op == opClass }

func foldEq(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func (m *matcher) seq(subs []*node, j, i int, k func(int) bool) bool {
	if j == len(subs) {
		return k(i)
	}
	return m.match(subs[j], i, func(e int) bool { return m.seq(subs, j+1, e, k) })
}

func (m *matcher) group(n *node, i int, k func(int) bool) bool {
	a, b := 2*n.n, 2*n.n+1
	return m.match(n.subs[0], i, func(e int) bool {
		os, oe := m.caps[a], m.caps[b]
		m.caps[a], m.caps[b] = i, e
		if k(e) {
			return true
		}
		m.caps[a], m.caps[b] = os, oe
		return false
	})
}

// repeatOne repeats a single-rune element without recursion per rune.
func (m *matcher) repeatOne(n *node, i int, k func(int) bool) bool {
	sub, count := n.subs[0], 0
	limit := len(m.s) - i
	if n.max >= 0 && n.max < limit {
		limit = n.max
	}
	for count < limit && (!n.lazy || count < n.min) {
		if !m.step() {
			return false
		}
		if !m.one(sub, m.s[i+count]) {
			break
		}
		count++
	}
	if count < n.min {
		return false
	}
	if n.lazy {
		for ; count <= limit; count++ {
			if k(i + count) {
				return true
			}
			if m.over || count == limit || !m.step() || !m.one(sub, m.s[i+count]) {
				return false
			}
		}
		return false
	}
	for ; count >= n.min; count-- {
		if k(i + count) {
			return true
		}
		if m.over || !m.step() {
			return false
		}
	}
	return false
}

// repeat repeats any element; an iteration that matches the empty
// string ends the repetition, so it always terminates.
func (m *matcher) repeat(n *node, i, count int, k func(int) bool) bool {
	more := func(e int) bool {
		if e == i && count >= n.min {
			return false
		}
		return m.repeat(n, e, count+1, k)
	}
	if count < n.min {
		return m.match(n.subs[0], i, more)
	}
	if n.max >= 0 && count >= n.max {
		return k(i)
	}
	if n.lazy {
		return k(i) || !m.over && m.match(n.subs[0], i, more)
	}
	return m.match(n.subs[0], i, more) || !m.over && k(i)
}

func (m *matcher) backref(n *node, i int, k func(int) bool) bool {
	a, b := m.caps[2*n.n], m.caps[2*n.n+1]
	if a < 0 || b < 0 {
		return false // Perl: a reference to a group that did not match fails
	}
	if i+b-a > len(m.s) {
		return false
	}
	for j := 0; j < b-a; j++ {
		x, y := m.s[a+j], m.s[i+j]
		if x != y && !(n.fold && foldEq(x, y)) {
			return false
		}
	}
	return k(i + b - a)
}

func (m *matcher) look(n *node, i int, k func(int) bool) bool {
	found := false
	if n.behind {
		for j := i; j >= 0 && !found && !m.over; j-- {
			found = m.match(n.subs[0], j, func(e int) bool { return e == i })
		}
	} else {
		found = m.match(n.subs[0], i, func(int) bool { return true })
	}
	if m.over || found == n.neg {
		return false
	}
	return k(i)
}

// atomic matches its element once, at its first way, and never tries
// another (Perl's (?>...) and possessive quantifiers).
func (m *matcher) atomic(n *node, i int, k func(int) bool) bool {
	saved := append([]int(nil), m.caps...)
	end := -1
	if !m.match(n.subs[0], i, func(e int) bool { end = e; return true }) {
		return false
	}
	if k(end) {
		return true
	}
	copy(m.caps, saved)
	return false
}
