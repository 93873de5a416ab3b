package ruleset

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// kind is what a pattern is compared with, and how.
type kind uint8

const (
	kAddrGlob   kind = iota // envelope address, anchored glob
	kAddrRegex              // envelope address, regexp
	kIPPrefix               // client IP in a prefix
	kIPRange                // client IP in [lo, hi]
	kIPRegex                // client IP text, regexp
	kHostName               // reverse-DNS name, suffix glob
	kHostRegex              // reverse-DNS name, regexp
	kHostNone               // no reverse-DNS name
	kHostSpoof              // name does not resolve back
	kVirusGlob              // virus text, unanchored glob
	kVirusRegex             // virus text, regexp
)

// pattern is one compiled pattern.
type pattern struct {
	kind    kind
	glob    string // lower case, for the glob kinds
	re      *regexp.Regexp
	prefix  netip.Prefix
	lo, hi  netip.Addr
	nocheck bool // host-nocheck: do not require forward confirmation
}

// needsClient reports whether p looks at the client rather than an address,
// so that it only makes sense on the sender side.
func (p *pattern) needsClient() bool {
	switch p.kind {
	case kIPPrefix, kIPRange, kIPRegex, kHostName, kHostRegex, kHostNone, kHostSpoof:
		return true
	}
	return false
}

func (p *pattern) isHost() bool {
	switch p.kind {
	case kHostName, kHostRegex, kHostNone, kHostSpoof:
		return true
	}
	return false
}

// compileVirus compiles a Virus: pattern (not a pattern file).
func compileVirus(s string) (pattern, error) {
	if body, ok := regexBody(s); ok {
		re, err := compileRegex(body)
		return pattern{kind: kVirusRegex, re: re}, err
	}
	return pattern{kind: kVirusGlob, glob: "*" + strings.ToLower(s) + "*"}, nil
}

// compileAddr compiles a sender/recipient pattern (not a pattern file):
// host names, regular expressions, client addresses, address globs.
func compileAddr(s string) (pattern, error) {
	lower := strings.ToLower(s)
	if rest, ok := strings.CutPrefix(lower, "host-nocheck:"); ok {
		p, err := compileHost(s[len(s)-len(rest):])
		p.nocheck = true
		return p, err
	}
	if rest, ok := strings.CutPrefix(lower, "host:"); ok {
		return compileHost(s[len(s)-len(rest):])
	}
	if body, ok := regexBody(s); ok {
		re, err := compileRegex(body)
		if !strings.ContainsFunc(body, isASCIILetter) {
			return pattern{kind: kIPRegex, re: re}, err
		}
		return pattern{kind: kAddrRegex, re: re}, err
	}
	if p, ok, err := compileIP(s); ok {
		return p, err
	}
	return compileGlob(lower)
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// compileGlob applies MailScanner's address shorthands and checks the result.
func compileGlob(g string) (pattern, error) {
	switch {
	case strings.HasPrefix(g, "@"):
		g = "*" + g
	case strings.HasSuffix(g, "@"):
		g += "*"
	case !strings.Contains(g, "@"):
		g = "*@" + g
	}
	if strings.HasSuffix(g, "@*") && strings.HasPrefix(g, "*@") && len(g) == 3 {
		return pattern{kind: kAddrGlob, glob: g}, nil
	}
	if strings.ContainsAny(g, " \t<>\"\\") {
		return pattern{}, fmt.Errorf("address pattern %q: contains white space or one of <>\"\\", g)
	}
	return pattern{kind: kAddrGlob, glob: g}, nil
}

func compileHost(s string) (pattern, error) {
	switch {
	case s == "":
		return pattern{kind: kHostNone}, nil
	case strings.EqualFold(s, "_SPOOFED_"):
		return pattern{kind: kHostSpoof}, nil
	}
	if body, ok := regexBody(s); ok {
		re, err := compileRegex(body)
		return pattern{kind: kHostRegex, re: re}, err
	}
	g := strings.TrimSuffix(strings.ToLower(s), ".")
	if g == "" || strings.ContainsAny(g, "@/") {
		return pattern{}, fmt.Errorf("host pattern %q: not a host name", s)
	}
	return pattern{kind: kHostName, glob: g}, nil
}

// regexBody returns the body of "/body/" or "/body/i".
func regexBody(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '/' && s[len(s)-1] == '/' {
		return s[1 : len(s)-1], true
	}
	if len(s) >= 3 && s[0] == '/' && strings.HasSuffix(s, "/i") {
		return s[1 : len(s)-2], true
	}
	return "", false
}

// compileRegex compiles a Perl-style body with RE2, case-insensitively,
// naming the Perl constructs RE2 does not have.
func compileRegex(body string) (*regexp.Regexp, error) {
	if body == "" {
		return nil, fmt.Errorf("regex //: empty")
	}
	if why := perlOnly(body); why != "" {
		return nil, fmt.Errorf("regex /%s/: %s not supported (Go RE2 syntax)", body, why)
	}
	re, err := regexp.Compile("(?i)" + body)
	if err != nil {
		// Report the error as the user wrote the expression, without "(?i)".
		if _, err2 := regexp.Compile(body); err2 != nil {
			err = err2
		}
		return nil, fmt.Errorf("regex /%s/: %w", body, err)
	}
	return re, nil
}

// perlOnly names the first Perl-only construct in body, or returns "".
func perlOnly(body string) string {
	inClass := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		next := byte(0)
		if i+1 < len(body) {
			next = body[i+1]
		}
		switch {
		case c == '\\':
			switch {
			case next >= '1' && next <= '9' && !inClass:
				return "back-reference \\" + string(next)
			case next == 'k' || next == 'g':
				return "back-reference \\" + string(next)
			case next == 'G' || next == 'Z':
				return "\\" + string(next) + " (use $ or \\z)"
			}
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ']' right after '[' or '[^' is a literal member.
			if next == '^' {
				i++
			}
			if i+1 < len(body) && body[i+1] == ']' {
				i++
			}
		case c == '(' && strings.HasPrefix(body[i:], "(?"):
			for _, g := range []string{"(?=", "(?!", "(?<=", "(?<!"} {
				if strings.HasPrefix(body[i:], g) {
					return "look-around " + g + "...)"
				}
			}
			if strings.HasPrefix(body[i:], "(?>") {
				return "atomic group (?>...)"
			}
		case (c == '*' || c == '+' || c == '?' || c == '}') && next == '+':
			return "possessive quantifier " + string(c) + "+"
		}
	}
	return ""
}

// compileIP recognises client address forms; ok is false when s is not one.
func compileIP(s string) (p pattern, ok bool, err error) {
	if lo, hi, found := strings.Cut(s, "-"); found && looksIP(lo) && looksIP(hi) {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		switch {
		case err1 != nil || err2 != nil:
			return p, true, fmt.Errorf("address range %q: not two IP addresses", s)
		case a.Is4() != b.Is4() || b.Less(a):
			return p, true, fmt.Errorf("address range %q: ends differ in family or are reversed", s)
		}
		return pattern{kind: kIPRange, lo: a.Unmap(), hi: b.Unmap()}, true, nil
	}
	if addr, bits, found := strings.Cut(s, "/"); found && looksIP(addr) {
		pfx, err := parseCIDR(addr, bits)
		if err != nil {
			return p, true, fmt.Errorf("network %q: %w", s, err)
		}
		return pattern{kind: kIPPrefix, prefix: pfx}, true, nil
	}
	if !looksIP(s) {
		return p, false, nil
	}
	pfx, err := parsePrefix(s)
	if err != nil {
		return p, true, fmt.Errorf("address prefix %q: %w", s, err)
	}
	return pattern{kind: kIPPrefix, prefix: pfx}, true, nil
}

// looksIP: digits and dots (IPv4), or hex digits, dots and at least one
// colon (IPv6). A domain such as "dead.be" has no colon, so stays a domain.
func looksIP(s string) bool {
	if s == "" {
		return false
	}
	digitsDots := strings.Trim(s, "0123456789.") == ""
	if digitsDots && strings.ContainsAny(s, "0123456789") {
		return true
	}
	return strings.Contains(s, ":") && strings.Trim(strings.ToLower(s), "0123456789abcdef:.") == ""
}

func parseCIDR(addr, bits string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	if strings.Contains(bits, ".") {
		mask, err := netip.ParseAddr(bits)
		if err != nil || !mask.Is4() || !a.Is4() {
			return netip.Prefix{}, fmt.Errorf("mask %q: not an IPv4 netmask", bits)
		}
		n, ok := maskBits(mask.As4())
		if !ok {
			return netip.Prefix{}, fmt.Errorf("mask %q: not contiguous", bits)
		}
		return netip.PrefixFrom(a, n).Masked(), nil
	}
	pfx, err := netip.ParsePrefix(a.String() + "/" + bits)
	if err != nil {
		return netip.Prefix{}, err
	}
	return pfx.Masked(), nil
}

func maskBits(m [4]byte) (int, bool) {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&(1<<31) != 0 {
		n++
		v <<= 1
	}
	return n, v == 0
}

// parsePrefix turns "10.", "192.168.21", "192.168.21.7", "2001:db8:" or a
// full IPv6 address into a prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if !strings.Contains(s, ":") {
		octets := strings.Split(strings.TrimSuffix(s, "."), ".")
		if len(octets) > 4 {
			return netip.Prefix{}, fmt.Errorf("more than 4 octets")
		}
		var b [4]byte
		for i, o := range octets {
			v, err := strconv.ParseUint(o, 10, 8)
			if err != nil || len(o) > 3 {
				return netip.Prefix{}, fmt.Errorf("octet %q: not 0-255", o)
			}
			b[i] = byte(v)
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(octets)), nil
	}
	groups := strings.Split(strings.TrimSuffix(s, ":"), ":")
	if len(groups) > 7 || strings.Contains(s, "::") || strings.Contains(s, ".") {
		return netip.Prefix{}, fmt.Errorf("not an IPv6 address or group prefix")
	}
	var b [16]byte
	for i, g := range groups {
		v, err := strconv.ParseUint(g, 16, 16)
		if err != nil || len(g) > 4 {
			return netip.Prefix{}, fmt.Errorf("group %q: not 1-4 hex digits", g)
		}
		b[2*i], b[2*i+1] = byte(v>>8), byte(v)
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 16*len(groups)), nil
}
