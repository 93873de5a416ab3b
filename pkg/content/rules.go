package content

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// ErrSyntax is wrapped by every rule-file error.
var ErrSyntax = errors.New("content: rule syntax error")

// Verb is what a rule does with a matching file.
type Verb int

const (
	Allow Verb = iota
	Deny
	Rename    // MailScanner's "rename": qscan cannot rename, it denies
	Addresses // a list of addresses: deny, and note the redirect wish
)

// Rule is one line of a filename or filetype rules file.
type Rule struct {
	File      string
	Line      int
	Verb      Verb
	Delete    bool           // deny+delete: remove without quarantining the part
	Store     bool           // deny+store: quarantine the part (what deny does anyway)
	To        []string       // Addresses
	Pattern   *regexp.Regexp // nil: "-", matches anything
	MIME      *regexp.Regexp // 5-field form: matched against the MIME type; nil: any
	Log, User string
}

// ID names the rule in reports: "file:line".
func (r *Rule) ID() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Rules is an ordered list of rules; the first that matches wins.
type Rules struct {
	List []Rule
}

// Match returns the first rule whose pattern matches one of subjects and
// whose MIME pattern (if any) matches mime; nil when none does (allow).
func (rs *Rules) Match(mime string, subjects ...string) *Rule {
	if rs == nil {
		return nil
	}
	for i := range rs.List {
		r := &rs.List[i]
		if r.MIME != nil && !r.MIME.MatchString(mime) {
			continue
		}
		if r.Pattern == nil {
			return r
		}
		for _, s := range subjects {
			if r.Pattern.MatchString(s) {
				return r
			}
		}
	}
	return nil
}

// LoadRules reads and concatenates rule files, in order. All errors of all
// files are returned at once, each as "FILE:LINE: text".
func LoadRules(paths ...string) (*Rules, error) {
	rs := &Rules{}
	var errs []error
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("load rules %s: %w", p, err))
			continue
		}
		one, err := ParseRules(p, f)
		f.Close()
		if one != nil {
			rs.List = append(rs.List, one.List...)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rs, errors.Join(errs...)
}

// maxRuleLine bounds one line of a rule file.
const maxRuleLine = 64 << 10

// ParseRules reads MailScanner-style rules: TAB-separated "action regexp
// log-text user-text", or with a MIME-type regexp as third field. Bad lines
// are skipped and reported; the returned Rules holds the good ones.
func ParseRules(name string, r io.Reader) (*Rules, error) {
	rs := &Rules{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxRuleLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rule, err := parseLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
			continue
		}
		rule.File, rule.Line = name, n
		rs.List = append(rs.List, rule)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: read: %w", name, err))
	}
	return rs, errors.Join(errs...)
}

var tabs = regexp.MustCompile(`\t+`)

func parseLine(line string) (Rule, error) {
	f := tabs.Split(line, 5)
	var r Rule
	var mime string
	switch len(f) {
	case 4:
		r.Log, r.User = f[2], f[3]
	case 5:
		mime, r.Log, r.User = f[2], f[3], f[4]
	default:
		return r, fmt.Errorf("%d fields, want 4 or 5 separated by TABs: %w", len(f), ErrSyntax)
	}
	if err := parseVerb(&r, f[0]); err != nil {
		return r, err
	}
	var err error
	if r.Pattern, err = compilePerl(f[1]); err != nil {
		return r, err
	}
	if r.MIME, err = compilePerl(mime); err != nil {
		return r, err
	}
	r.Log, r.User = dash(r.Log), dash(r.User)
	return r, nil
}

func dash(s string) string {
	if strings.TrimSpace(s) == "-" {
		return ""
	}
	return strings.TrimSpace(s)
}

var addrSep = regexp.MustCompile(`[\s,]+`)

func parseVerb(r *Rule, a string) error {
	l := strings.ToLower(strings.TrimSpace(a))
	switch {
	case l == "allow":
		r.Verb = Allow
	case strings.HasPrefix(l, "deny"):
		r.Verb = Deny
		r.Delete = strings.Contains(l, "delete")
		r.Store = strings.Contains(l, "store")
		for _, w := range strings.FieldsFunc(l[4:], func(c rune) bool { return c == '+' || c == '-' || c == ' ' }) {
			if w != "delete" && w != "store" {
				return fmt.Errorf("action %q: unknown modifier %q: %w", a, w, ErrSyntax)
			}
		}
	case l == "rename" || strings.HasPrefix(l, "rename to "):
		r.Verb = Rename
	case strings.Contains(l, "@"):
		r.Verb = Addresses
		for _, s := range addrSep.Split(strings.TrimSpace(a), -1) {
			if !strings.Contains(s, "@") {
				return fmt.Errorf("action %q: %q is not an address: %w", a, s, ErrSyntax)
			}
			r.To = append(r.To, s)
		}
	default:
		return fmt.Errorf("action %q: want allow, deny, deny+delete, deny+store, rename or addresses: %w", a, ErrSyntax)
	}
	return nil
}

// perlOnly are Perl regexp constructs RE2 cannot run.
var perlOnly = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`\(\?<?[=!]`), "lookaround"},
	{regexp.MustCompile(`\\[1-9]`), "backreference"},
	{regexp.MustCompile(`[*+?}][+]`), "possessive quantifier"},
	{regexp.MustCompile(`\(\?>`), "atomic group"},
	{regexp.MustCompile(`\\G`), `\G anchor`},
}

// compilePerl turns a MailScanner (Perl) pattern into a Go regexp:
// "/re/" delimiters dropped, a leading "*" read as ".*", \Z translated,
// case-insensitive and dot-matches-newline as MailScanner's /is.
// "-" or "" means no pattern.
func compilePerl(p string) (*regexp.Regexp, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "-" {
		return nil, nil
	}
	if len(p) >= 2 && p[0] == '/' && p[len(p)-1] == '/' {
		p = p[1 : len(p)-1]
	}
	if strings.HasPrefix(p, "*") {
		p = "." + p
	}
	for _, c := range perlOnly {
		if c.re.MatchString(p) {
			return nil, fmt.Errorf("pattern %q: %s is not supported (Go RE2), rule skipped: %w", p, c.what, ErrSyntax)
		}
	}
	p = strings.ReplaceAll(p, `\Z`, `(?:\n?\z)`)
	re, err := regexp.Compile("(?is)" + p)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v: %w", p, err, ErrSyntax)
	}
	return re, nil
}
