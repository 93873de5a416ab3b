// Package spam turns spam engine results into qscan's decisions: white and
// black lists, the ham / spam / high-scoring verdict, the spam headers and
// subject tag, MailScanner's spam actions, a result cache and engine
// health. The engine clients live in the subpackages spamd, rspamd and
// dnsbl; this package knows none of them.
package spam

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// List is a white or black list of senders and client addresses. Entries:
//
//	user@example.com   that address (compared without regard to case)
//	*@example.com      any user at example.com, not at its subdomains
//	example.com        the same as *@example.com (also "@example.com")
//	*.example.com      any user at any subdomain of example.com, not at
//	                   example.com itself: list both to get both
//	192.0.2.7, 2001:db8::7            that client address
//	10.0.0.0/8, 2001:db8::/32         a range of client addresses
//	192.168.                          MailScanner's prefix form: whole
//	                                  octets ending in a dot (= 192.168.0.0/16)
//
// Empty lines and lines starting with '#' are ignored.
type List struct {
	addrs      map[string]bool
	domains    map[string]bool
	subdomains []string // ".example.com"
	nets       []netip.Prefix
}

// ParseList builds a List, reporting every bad entry at once.
func ParseList(entries []string) (*List, error) {
	l := &List{addrs: map[string]bool{}, domains: map[string]bool{}}
	var errs []error
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		if err := l.add(e); err != nil {
			errs = append(errs, fmt.Errorf("spam list entry %d %q: %w", i+1, e, err))
		}
	}
	return l, errors.Join(errs...)
}

func (l *List) add(e string) error {
	if p, ok, err := parseNet(e); ok {
		if err != nil {
			return err
		}
		l.nets = append(l.nets, p)
		return nil
	}
	e = strings.ToLower(e)
	local, domain, hasAt := strings.Cut(e, "@")
	if !hasAt {
		domain, local = e, "*"
	}
	if hasAt && strings.Contains(domain, "@") {
		return errors.New("more than one @")
	}
	sub := strings.HasPrefix(domain, "*.")
	if !validDomain(strings.TrimPrefix(domain, "*.")) {
		return errors.New("not an address, domain or IP range")
	}
	switch {
	case local == "*" || local == "":
		if sub {
			l.subdomains = append(l.subdomains, domain[1:])
		} else {
			l.domains[domain] = true
		}
	case sub:
		return errors.New("a user at *.domain is not supported; use *@*.domain")
	case strings.ContainsFunc(local, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '*' }):
		return errors.New("bad local part")
	default:
		l.addrs[local+"@"+domain] = true
	}
	return nil
}

// parseNet recognises the IP forms; ok is false when e is not one.
func parseNet(e string) (p netip.Prefix, ok bool, err error) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return p, true, errors.New("bad CIDR range")
		}
		return p.Masked(), true, nil
	}
	if a, err := netip.ParseAddr(e); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true, nil
	}
	if !strings.HasSuffix(e, ".") || strings.Trim(e, "0123456789.") != "" {
		return p, false, nil
	}
	octets := strings.Split(strings.TrimSuffix(e, "."), ".")
	if len(octets) > 3 {
		return p, true, errors.New("prefix form has more than 3 octets")
	}
	var b [4]byte
	for i, o := range octets {
		n, err := strconv.ParseUint(o, 10, 8)
		if err != nil {
			return p, true, errors.New("bad octet in prefix form")
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(octets)), true, nil
}

// validDomain accepts lower-case host names of at least two labels.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || strings.ContainsFunc(label, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f)
		}) {
			return false
		}
	}
	return true
}

// Match reports whether the envelope sender or the client address is on the
// list. The null sender ("" or "<>") matches by address only.
func (l *List) Match(sender string, ip netip.Addr) bool {
	if l == nil {
		return false
	}
	if ip.IsValid() {
		ip = ip.Unmap()
		for _, p := range l.nets {
			if p.Contains(ip) {
				return true
			}
		}
	}
	sender = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(sender), "<"), ">"))
	i := strings.LastIndexByte(sender, '@')
	if i <= 0 {
		return false
	}
	domain := strings.TrimSuffix(sender[i+1:], ".")
	if l.addrs[sender[:i+1]+domain] || l.domains[domain] {
		return true
	}
	for _, s := range l.subdomains {
		if strings.HasSuffix(domain, s) {
			return true
		}
	}
	return false
}

// Len returns the number of entries.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.addrs) + len(l.domains) + len(l.subdomains) + len(l.nets)
}
