package quarantine

import (
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/sendmail"
)

// CheckAddress accepts what can go to a released copy: one plain address
// local@domain, optionally in angle brackets, with a dot-atom local part
// (no blanks, quotes, commas or other specials) and a domain of host-name
// labels. The error wraps sendmail.ErrBadAddress and says what is wrong.
func CheckAddress(addr string) error {
	a := bareAddress(addr)
	bad := func(why string) error {
		return fmt.Errorf("%q is not a mail address (want local@domain): %w: %s", addr, sendmail.ErrBadAddress, why)
	}
	if len(a) > sendmail.MaxAddressLen || len(a) > 254 {
		return bad("too long")
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return bad("no @domain")
	}
	local, domain := a[:at], a[at+1:]
	if why := checkLocal(local); why != "" {
		return bad(why)
	}
	if why := checkDomain(domain); why != "" {
		return bad(why)
	}
	return nil
}

// checkLocal says what is wrong with a dot-atom local part, or "".
func checkLocal(s string) string {
	if s == "" || len(s) > 64 {
		return "the part before @ is empty or longer than 64 bytes"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>[]\,;:"@`, c) >= 0 {
			return fmt.Sprintf("%q before the @", c)
		}
	}
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return "misplaced dot before the @"
	}
	return ""
}

// checkDomain says what is wrong with a domain of host-name labels, or "".
func checkDomain(s string) string {
	if s == "" || len(s) > 253 {
		return "the domain is empty or longer than 253 bytes"
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("bad domain %q", s)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("%q in the domain", c)
			}
		}
	}
	return ""
}

// bareAddress strips blanks and one pair of angle brackets.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}
