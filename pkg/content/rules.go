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
	Rename    // deliver the file under another name (RenameTo, or the default rename pattern)
	Addresses // deliver the message to the addresses in To instead of its recipients
)

// Rule is one line of a filename or filetype rules file.
type Rule struct {
	File   string
	Line   int
	Verb   Verb
	Delete bool     // deny+delete: remove without quarantining the part
	Store  bool     // deny+store: quarantine the part (what deny does anyway)
	To     []string // Addresses
	// RenameTo is the text of "rename to TEXT": the first match of Pattern
	// in the name is replaced by TEXT ($1...$9 name the pattern's
	// groups). Empty with Verb Rename: the default rename pattern.
	RenameTo  string
	Pattern   *Pattern // nil: "-", matches anything
	MIME      *Pattern // 5-field form: matched against the MIME type; nil: any
	Log, User string
}

// ID names the rule in reports: "file:line".
func (r *Rule) ID() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Rules is an ordered list of rules; the first that matches wins.
type Rules struct {
	List []Rule
}

// matches runs p on s. A match the step budget cannot decide counts on
// the safe side: as a match for a rule that blocks, as none for one that
// allows; costly says so.
func (r *Rule) matches(p *Pattern, s string) (hit, costly bool) {
	if p == nil {
		return true, false
	}
	ok, err := p.MatchString(s)
	if err != nil {
		return r.Verb != Allow, true
	}
	return ok, false
}

// Match returns the first rule whose pattern matches one of subjects and
// whose MIME pattern (if any) matches mime; nil when none does (allow).
func (rs *Rules) Match(mime string, subjects ...string) *Rule {
	if rs == nil {
		return nil
	}
	for i := range rs.List {
		r := &rs.List[i]
		if ok, _ := r.matches(r.MIME, mime); !ok {
			continue
		}
		for _, s := range subjects {
			if ok, _ := r.matches(r.Pattern, s); ok {
				return r
			}
		}
	}
	return nil
}

// Hit is the verdict of a rule list on a file.
type Hit struct {
	Rule   *Rule
	Name   string // the subject the rule matched
	Costly bool   // a pattern ran out of its step budget and counted as matching
}

// Check applies the rules to each of names on its own (the first rule
// that matches a name decides for that name) and returns the strongest
// verdict: a deny or an address list before a rename, nil when every
// name is allowed. A file is blocked when any of its names is.
func (rs *Rules) Check(mime string, names []string) *Hit {
	if rs == nil {
		return nil
	}
	var best *Hit
	for _, n := range names {
		h := rs.first(n, func(r *Rule) *Pattern { return r.Pattern }, false, func(r *Rule) bool {
			ok, _ := r.matches(r.MIME, mime)
			return ok
		})
		best = stronger(best, h)
	}
	return best
}

// CheckType applies filetype rules as MailScanner does: the rules with a
// description pattern to the description (first match decides), then the
// rules with a MIME-type pattern (the 5-field form) to the MIME type;
// the stronger verdict wins.
func (rs *Rules) CheckType(desc, mime string) *Hit {
	if rs == nil {
		return nil
	}
	always := func(*Rule) bool { return true }
	h := rs.first(desc, func(r *Rule) *Pattern { return r.Pattern }, true, always)
	if mime != "" {
		h = stronger(h, rs.first(mime, func(r *Rule) *Pattern { return r.MIME }, true, always))
	}
	return h
}

// first returns the verdict of the first rule that meets cond and whose
// pattern (chosen by pat) matches s; nil for allow. A rule without that
// pattern ("-") matches anything, or is skipped when skipNil is set.
func (rs *Rules) first(s string, pat func(*Rule) *Pattern, skipNil bool, cond func(*Rule) bool) *Hit {
	for i := range rs.List {
		r := &rs.List[i]
		p := pat(r)
		if p == nil && skipNil || !cond(r) {
			continue
		}
		ok, costly := r.matches(p, s)
		if !ok {
			continue
		}
		if r.Verb == Allow {
			return nil
		}
		return &Hit{Rule: r, Name: s, Costly: costly}
	}
	return nil
}

func rank(h *Hit) int {
	switch {
	case h == nil:
		return 0
	case h.Rule.Verb == Rename:
		return 1
	}
	return 2
}

func stronger(a, b *Hit) *Hit {
	if rank(b) > rank(a) {
		return b
	}
	return a
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

// parseVerb reads the action field: allow; deny, deny+delete, deny+store
// (any order of the modifiers); rename; rename to TEXT; a list of
// addresses separated by blanks or commas (the message goes to them
// instead of its recipients), alone or after a deny.
func parseVerb(r *Rule, a string) error {
	a = strings.TrimSpace(a)
	l := strings.ToLower(a)
	switch {
	case l == "allow":
		r.Verb = Allow
	case l == "rename":
		r.Verb = Rename
	case strings.HasPrefix(l, "rename") && strings.HasPrefix(strings.TrimSpace(l[6:]), "to") &&
		(len(strings.TrimSpace(l[6:])) == 2 || isBlankByte(strings.TrimSpace(l[6:])[2])):
		r.Verb = Rename
		r.RenameTo = strings.TrimSpace(strings.TrimSpace(a[6:])[2:])
	case strings.HasPrefix(l, "deny"):
		r.Verb = Deny
		for _, w := range strings.FieldsFunc(l[4:], func(c rune) bool { return c == '+' || c == '-' || c == ' ' || c == ',' || c == '\t' }) {
			switch {
			case w == "delete":
				r.Delete = true
			case w == "store":
				r.Store = true
			case strings.Contains(w, "@"):
				r.To = append(r.To, w)
			default:
				return fmt.Errorf("action %q: unknown modifier %q: %w", a, w, ErrSyntax)
			}
		}
	case strings.Contains(l, "@"):
		r.Verb = Addresses
		for _, s := range addrSep.Split(l, -1) {
			if !strings.Contains(s, "@") {
				return fmt.Errorf("action %q: %q is not an address: %w", a, s, ErrSyntax)
			}
			r.To = append(r.To, s)
		}
	default:
		return fmt.Errorf("action %q: want allow, deny, deny+delete, deny+store, rename, rename to TEXT or addresses: %w", a, ErrSyntax)
	}
	return nil
}

func isBlankByte(c byte) bool { return c == ' ' || c == '\t' }

// compilePerl compiles a MailScanner (Perl) pattern: "/re/" delimiters
// dropped, a leading "*" read as ".*", matched case-insensitively with
// "." matching a newline (MailScanner's /is). "-" or "" means no pattern.
func compilePerl(p string) (*Pattern, error) {
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
	return CompilePattern(p)
}
