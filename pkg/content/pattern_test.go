package content

import (
	"errors"
	"strings"
	"testing"
)

// perlCases were checked against perl 5.36 as MailScanner matches a
// rule: $name =~ /$pattern/is, the pattern read from a variable.
var perlCases = []struct {
	re, s string
	want  bool
}{
	{`\.exe$`, "a.exe", true},
	{`\.exe$`, "a.exe\n", true},
	{`\.exe$`, "a.exe\n\n", false},
	{`\.exe\Z`, "a.EXE\n", true},
	{`\.exe\z`, "a.exe\n", false},
	{`^a.b$`, "a\nb", true},
	{`(\.[a-z0-9]{3})\1$`, "x.doc.DOC", true},
	{`(\.[a-z0-9]{3})\1$`, "x.doc.pdf", false},
	{`(\.[a-z0-9]{3})\1$`, ".abc.abc.abc", true},
	{`^(a|ab)(c|bcd)(d*)$`, "abcd", true},
	{`(a+)+b`, "aaab", true},
	{`a.*?b`, "axxbyyb", true},
	{`\bscript`, "POSIX shell script text", true},
	{`\bscript`, "javascript", false},
	{`\s{10,}`, "a          b", true},
	{`\s{10,}`, "a         b", false},
	{`x{2,3}y`, "xxxy", true},
	{`x{,3}y`, "x{,3}y", true},
	{`a{2`, "a{2", true},
	{`[]a]`, "]", true},
	{`[^]a]`, "b", true},
	{`[\d-z]`, "-", true},
	{`\x41\x{42}\103`, "abc", true},
	{`\Qa.b\E`, "a.b", false},
	{`\Qa.b\E`, "axb", false},
	{`(?<=\.tar)\.gz$`, "a.tar.gz", true},
	{`(?<!\.tar)\.gz$`, "a.tar.gz", false},
	{`(?>a*)a`, "aaa", false},
	{`a*+a`, "aaa", false},
	{`(?i-i:A)b`, "aB", false},
	{`(?-i)A`, "a", false},
	{`(?-i:A)`, "A", true},
	{`^(?:(a)|b)\1$`, "b", false},
	{`^(?:(a)|b)\1?$`, "b", true},
	{`(a)|\1b`, "b", false},
	{`(?-s).`, "\n", false},
	{`(?m)^b`, "a\nb", true},
	{`^b`, "a\nb", false},
	{`(?m)a$`, "a\nb", true},
	{`\Aa`, "ba", false},
	{`[[:alpha:]]+\d`, "abc1", true},
	{`[[:^digit:]]`, "5", false},
	{`\p{Lu}`, "a", true},
	{`\P{Lu}`, "A", false},
	{`\w+@\w+`, "joe@example", true},
	{`\{[a-hA-H0-9-]{25,}\}`, "x{0123456789abcdef-01234567}.txt", true},
	{`\.[a-z][a-z0-9]{2,3}\s*\.[a-z0-9]{3,4}$`, "invoice.pdf .exe", true},
	{`\.[a-z][a-z0-9]{2,3}\s*\.[a-z0-9]{3,4}$`, "invoice.exe", false},
	{`(\w)(\w)\2\1`, "xabba", true},
	{`(?<n>a)\k<n>`, "aa", true},
	{`(a)\g{-1}`, "aa", true},
	{`(a)\g1`, "aa", true},
	{`\N+`, "ab\ncd", true},
	{`\Qa.b\E`, "Qa.bE", true},
	{`\y`, "y", true},
	{`$.`, "\n", true},
	{`a$\nb`, "a\nb", false},
	{`a$\n`, "a\n", true},
}

func TestPatternPerlSemantics(t *testing.T) {
	for _, tt := range perlCases {
		p, err := CompilePattern(tt.re)
		if err != nil {
			t.Errorf("CompilePattern(%q): %v", tt.re, err)
			continue
		}
		got, err := p.MatchString(tt.s)
		if err != nil || got != tt.want {
			t.Errorf("%q =~ /%s/is = %v, %v; want %v (perl)", tt.s, tt.re, got, err, tt.want)
		}
		// Both engines agree where RE2 runs the pattern.
		if !p.Backtracking() {
			bt, _, ok, err := newMatcher([]rune(tt.s), p.groups).find(p.tree)
			if ok != tt.want || err != nil {
				t.Errorf("backtracking %q =~ /%s/ = %v (at %d), %v; want %v", tt.s, tt.re, ok, bt, err, tt.want)
			}
		}
	}
}

func TestPatternEngineChoice(t *testing.T) {
	for re, bt := range map[string]bool{`\.exe$`: false, `.{150,}`: false, `\s{10,}`: false,
		`(\.[a-z0-9]{3})\1$`: true, `(?=a)`: true, `(?>a)`: true, `a++`: true, `[\S\d]`: true} {
		p, err := CompilePattern(re)
		if err != nil || p.Backtracking() != bt {
			t.Errorf("CompilePattern(%q) backtracking = %v, %v; want %v", re, p != nil && p.Backtracking(), err, bt)
		}
	}
}

func TestPatternBudget(t *testing.T) {
	// Exponential for a backtracking engine: the budget stops it.
	p, err := CompilePattern(`^(a|aa)+\1x$`)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := p.MatchString(strings.Repeat("a", 60))
	if ok || !errors.Is(err, ErrPatternBudget) {
		t.Errorf("MatchString = %v, %v; want false, ErrPatternBudget", ok, err)
	}
}

func TestPatternFindIndex(t *testing.T) {
	for _, tt := range []struct {
		re, s string
		want  []int
	}{
		{`\.pps$`, "show.pps", []int{4, 8}},
		{`(\.pps)\1$`, "é.pps.PPS", []int{2, 10}},
		{`x`, "abc", nil},
	} {
		p, err := CompilePattern(tt.re)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.FindIndex(tt.s)
		if err != nil || len(got) != len(tt.want) || len(got) == 2 && (got[0] != tt.want[0] || got[1] != tt.want[1]) {
			t.Errorf("FindIndex(%q, %q) = %v, %v; want %v", tt.re, tt.s, got, err, tt.want)
		}
	}
}

// FuzzPattern: any expression either fails to compile or matches any
// subject without panicking, within its budget; where RE2 runs it, the
// backtracking matcher agrees.
func FuzzPattern(f *testing.F) {
	for _, c := range perlCases {
		f.Add(c.re, c.s)
	}
	f.Add(`^(a|aa)+\1x$`, strings.Repeat("a", 40))
	f.Add(`(?<=(a+))\1b`, "aaab")
	f.Fuzz(func(t *testing.T, re, s string) {
		if len(re) > 200 || len(s) > 400 {
			return
		}
		p, err := CompilePattern(re)
		if err != nil {
			return
		}
		ok, err := p.MatchString(s)
		if _, ferr := p.FindIndex(s); (ferr == nil) != (err == nil) {
			t.Fatalf("MatchString and FindIndex disagree on the budget: %v, %v", err, ferr)
		}
		if p.Backtracking() || err != nil {
			return
		}
		m := newMatcher([]rune(s), p.groups)
		_, _, bt, berr := m.find(p.tree)
		if berr == nil && bt != ok {
			t.Fatalf("/%s/ on %q: RE2 %v, backtracking %v (RE2 form %s)", re, s, ok, bt, p.re)
		}
	})
}
