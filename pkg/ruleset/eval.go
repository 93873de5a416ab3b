package ruleset

import (
	"fmt"
	"net/netip"
	"strings"
)

// prepared is a Msg normalised once for matching: lower case, <> removed,
// truncated to MaxAddress, client address unmapped.
type prepared struct {
	from     string
	to       []string
	ip       netip.Addr
	ipText   string
	host     string
	verified bool
	virus    []string
}

func (r *Ruleset) prepare(m Msg) *prepared {
	max := r.maxAddr
	if max <= 0 {
		max = DefaultMaxAddress
	}
	pm := &prepared{
		from:     normAddr(m.From, max),
		ip:       m.ClientIP.Unmap(),
		host:     strings.TrimSuffix(trunc(strings.ToLower(strings.TrimSpace(m.ClientHost)), max), "."),
		verified: m.HostVerified,
	}
	if pm.ip.IsValid() {
		pm.ipText = pm.ip.String()
	}
	pm.to = make([]string, len(m.To))
	for i, t := range m.To {
		pm.to[i] = normAddr(t, max)
	}
	pm.virus = make([]string, len(m.Virus))
	for i, v := range m.Virus {
		pm.virus[i] = trunc(strings.ToLower(v), max)
	}
	return pm
}

func trunc(s string, max int) string {
	if len(s) > max {
		return s[:max]
	}
	return s
}

func normAddr(a string, max int) string {
	a = strings.TrimSpace(a)
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		a = strings.TrimSpace(a[1 : len(a)-1])
	}
	return trunc(strings.ToLower(a), max)
}

// Value returns the value of the first rule, in file order, that matches
// m, else the default: MailScanner's "First" options. A To side matches if
// any recipient matches. ok is false when nothing matches and there is no
// default.
func (r *Ruleset) Value(m Msg) (value string, ok bool) {
	v, _, ok := r.Explain(m)
	return v, ok
}

// Explain is Value plus the position "FILE:LINE" of the rule (or default
// line) that gave the value, for "qscan lint --value".
func (r *Ruleset) Explain(m Msg) (value, rule string, ok bool) {
	ru := r.first(r.prepare(m))
	if ru == nil {
		return "", "", false
	}
	return ru.value, fmt.Sprintf("%s:%d", ru.file, ru.line), true
}

func (r *Ruleset) first(pm *prepared) *rule {
	for i := range r.rules {
		if r.rules[i].matchesAny(pm) {
			return &r.rules[i]
		}
	}
	return r.def
}

// All returns the values of every matching rule in file order, or the
// default alone when none matches (nil if there is no default):
// MailScanner's "All" options, whose consumer joins them and asks whether
// any says yes.
func (r *Ruleset) All(m Msg) []string {
	pm := r.prepare(m)
	var out []string
	for i := range r.rules {
		if r.rules[i].matchesAny(pm) {
			out = append(out, r.rules[i].value)
		}
	}
	if out == nil && r.def != nil {
		out = []string{r.def.value}
	}
	return out
}

// PerRecipient evaluates the ruleset once per recipient, as if each had
// been sent its own copy, and returns the first-match value for each (""
// where nothing matches and there is no default). With no recipients it
// returns the one value for the sender side.
func (r *Ruleset) PerRecipient(m Msg) []string {
	pm := r.prepare(m)
	if len(pm.to) == 0 {
		v, _ := r.Value(m)
		return []string{v}
	}
	out := make([]string, len(pm.to))
	all := pm.to
	for i := range all {
		pm.to = all[i : i+1]
		if ru := r.first(pm); ru != nil {
			out[i] = ru.value
		}
	}
	return out
}

// AnyRecipient reports whether pred holds for the first-match value of at
// least one recipient: "yes if any recipient says yes". A recipient for
// whom nothing matches (and no default) does not count.
func (r *Ruleset) AnyRecipient(m Msg, pred func(value string) bool) bool {
	pm := r.prepare(m)
	if len(pm.to) == 0 {
		ru := r.first(pm)
		return ru != nil && pred(ru.value)
	}
	all := pm.to
	for i := range all {
		pm.to = all[i : i+1]
		if ru := r.first(pm); ru != nil && pred(ru.value) {
			return true
		}
	}
	return false
}

// Yes interprets a yes/no value as MailScanner does: yes, 1, true, on are
// true; no, 0, false, off are false; case is ignored.
func Yes(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "1", "true", "on":
		return true, nil
	case "no", "0", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("ruleset yes/no %q: %w", v, ErrValue)
}

// IsYes is Yes without the error, for AnyRecipient: anything else is no.
func IsYes(v string) bool {
	y, _ := Yes(v)
	return y
}

// matchesAny reports whether every clause of the rule matches the message.
// As in MailScanner, each clause is checked on its own: in "From: a and
// To: b" the To side is satisfied by any recipient.
func (ru *rule) matchesAny(pm *prepared) bool {
	for i := range ru.clauses {
		if !ru.clauses[i].matches(pm) {
			return false
		}
	}
	return true
}

// matches: a From side matches the sender or client, a To side any
// recipient (every recipient for the To side of FromAndTo), a Virus side
// any virus text.
func (c *clause) matches(pm *prepared) bool {
	for i := range c.pats {
		p := &c.pats[i]
		switch {
		case c.dir&dirFrom != 0 && p.matchSender(pm):
			return true
		case c.dir&dirTo != 0 && c.every && len(pm.to) > 0 && p.matchAll(pm.to):
			return true
		case c.dir&dirTo != 0 && !c.every && p.matchAny(pm.to):
			return true
		case c.dir&dirVirus != 0 && p.matchVirus(pm.virus):
			return true
		}
	}
	return false
}

func (p *pattern) matchAny(addrs []string) bool {
	for _, a := range addrs {
		if p.matchAddr(a) {
			return true
		}
	}
	return false
}

func (p *pattern) matchAll(addrs []string) bool {
	for _, a := range addrs {
		if !p.matchAddr(a) {
			return false
		}
	}
	return true
}

func (p *pattern) matchAddr(a string) bool {
	switch p.kind {
	case kAddrGlob:
		// "*" is Perl's ".*", which stops at a newline; no pattern contains one.
		if strings.IndexByte(a, '\n') >= 0 {
			return false
		}
		return matchGlob(p.glob, a) || strings.HasSuffix(a, ".") && matchGlob(p.glob, a[:len(a)-1])
	case kAddrRegex:
		return p.re.MatchString(a)
	}
	return false
}

func (p *pattern) matchSender(pm *prepared) bool {
	switch p.kind {
	case kAddrGlob, kAddrRegex:
		return p.matchAddr(pm.from)
	case kIPPrefix:
		return pm.ip.IsValid() && p.prefix.Contains(pm.ip)
	case kIPRange:
		return pm.ip.IsValid() && pm.ip.Is4() == p.lo.Is4() && !pm.ip.Less(p.lo) && !p.hi.Less(pm.ip)
	case kIPRegex:
		return pm.ipText != "" && p.re.MatchString(pm.ipText)
	case kHostNone:
		return pm.host == ""
	case kHostSpoof:
		return pm.host != "" && !pm.verified
	case kHostName, kHostRegex:
		if pm.host == "" || !pm.verified && !p.nocheck {
			return false
		}
		if p.kind == kHostRegex {
			return p.re.MatchString(pm.host)
		}
		return matchHost(p.glob, pm.host)
	}
	return false
}

func (p *pattern) matchVirus(texts []string) bool {
	for _, t := range texts {
		if p.kind == kVirusGlob && matchGlob(p.glob, t) || p.kind == kVirusRegex && p.re.MatchString(t) {
			return true
		}
	}
	return false
}

// matchHost matches the glob against the name or any label-aligned suffix
// of it, so "example.com" matches "mail.example.com" but not
// "badexample.com".
func matchHost(g, host string) bool {
	for s := host; ; {
		if matchGlob(g, s) {
			return true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

// matchGlob reports whether s matches g, where "*" matches any run of
// bytes and everything else matches itself. It backtracks only to the last
// star, so the work is O(len(g)*len(s)) at worst.
func matchGlob(g, s string) bool {
	gi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case gi < len(g) && g[gi] == '*':
			star, mark = gi, si
			gi++
		case gi < len(g) && g[gi] == s[si]:
			gi++
			si++
		case star >= 0:
			mark++
			gi, si = star+1, mark
		default:
			return false
		}
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g)
}
