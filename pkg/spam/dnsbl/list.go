// Package dnsbl looks up client addresses and sender domains in DNS block
// lists (IPv4 and IPv6), in parallel, under one timeout per message, and
// pauses lists that keep timing out.
package dnsbl

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// Kind says what a list is keyed on.
type Kind string

// The kinds of list.
const (
	KindIP     Kind = "ip"     // reversed client address: 4.3.2.1.zone, or 32 nibbles for IPv6
	KindDomain Kind = "domain" // sender domain: example.com.zone
)

// List is one block list definition.
type List struct {
	Name string // shown in reports and headers, e.g. "SPAMHAUS"
	Zone string // e.g. "zen.spamhaus.org"
	Kind Kind
	// Expect holds the answers that mean "listed": an address or a range.
	// Empty means any address in 127.0.0.0/8 except 127.0.0.1 and
	// 127.255.255.0/24, which lists use for "query refused" and other
	// errors, never for a listing.
	Expect []netip.Prefix
	// Timeout bounds each query to this list; zero means the whole
	// message's timeout (Options.Timeout).
	Timeout time.Duration
}

var (
	defaultListed = netip.MustParsePrefix("127.0.0.0/8")
	errorCodes    = netip.MustParsePrefix("127.255.255.0/24")
	refused       = netip.MustParseAddr("127.0.0.1")
)

// ParseExpect parses expected answers such as "127.0.0.2" or
// "127.0.0.0/24" (any address in the range).
func ParseExpect(values []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, v := range values {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("dnsbl expected answer %q: not an address or CIDR range", v))
			continue
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, errors.Join(errs...)
}

// Validate reports every problem with the definition at once.
func (l *List) Validate() error {
	var errs []error
	if l.Name == "" || strings.ContainsFunc(l.Name, func(r rune) bool { return r <= ' ' || r == ',' || r == 0x7f }) {
		errs = append(errs, fmt.Errorf("dnsbl list %q: name must be non-empty, without spaces or commas", l.Name))
	}
	if _, ok := normalizeDomain(l.Zone); !ok {
		errs = append(errs, fmt.Errorf("dnsbl list %s: zone %q is not a domain name", l.Name, l.Zone))
	}
	if l.Kind != KindIP && l.Kind != KindDomain {
		errs = append(errs, fmt.Errorf("dnsbl list %s: kind %q, want %q or %q", l.Name, l.Kind, KindIP, KindDomain))
	}
	if l.Timeout < 0 {
		errs = append(errs, fmt.Errorf("dnsbl list %s: negative timeout", l.Name))
	}
	return errors.Join(errs...)
}

// listed reports whether answer a means "listed" for l.
func (l *List) listed(a netip.Addr) bool {
	a = a.Unmap()
	if len(l.Expect) == 0 {
		return defaultListed.Contains(a) && !errorCodes.Contains(a) && a != refused
	}
	for _, p := range l.Expect {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// reverseIP returns the query label for a: "4.3.2.1" for 1.2.3.4, and the
// 32 reversed nibbles for an IPv6 address.
func reverseIP(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	const hex = "0123456789abcdef"
	b := a.As16()
	var sb strings.Builder
	sb.Grow(64)
	for i := 15; i >= 0; i-- {
		sb.WriteByte(hex[b[i]&0xf])
		sb.WriteByte('.')
		sb.WriteByte(hex[b[i]>>4])
		if i > 0 {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}

// skipAddr says why a client address is not looked up, or "" when it is.
func skipAddr(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "no client address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsPrivate(), cgnat.Contains(a):
		return "private address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local address"
	case a.IsUnspecified(), a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "unroutable address"
	}
	return ""
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// senderDomain returns the lower-case ASCII domain of an envelope sender,
// or false when there is none worth a query (null sender, bare user,
// malformed or over-long domain).
func senderDomain(sender string) (string, bool) {
	sender = strings.Trim(sender, "<>")
	i := strings.LastIndexByte(sender, '@')
	if i < 0 {
		return "", false
	}
	return normalizeDomain(sender[i+1:])
}

// normalizeDomain returns d in lower-case ASCII (IDNA) without a trailing
// dot, or false when it is not a host name of at least two labels that fits
// in a DNS query together with a list zone.
func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 {
		return "", false
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || len(a) > 253 || !strings.Contains(a, ".") {
		return "", false
	}
	for label := range strings.SplitSeq(a, ".") {
		if label == "" || len(label) > 63 || strings.ContainsFunc(label, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z')
		}) {
			return "", false
		}
	}
	return a, true
}
