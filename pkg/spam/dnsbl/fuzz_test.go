package dnsbl

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzSenderDomain checks that whatever a sender address holds, the name
// that reaches a DNS query is a short lower-case LDH host name.
func FuzzSenderDomain(f *testing.F) {
	for _, s := range []string{"a@example.com", "<x@Spammer.Example.>", "a@bücher.example", "a@b@c", "@", "a@" + strings.Repeat("x.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := senderDomain(s)
		if !ok {
			return
		}
		if len(d) > 253 || strings.ContainsFunc(d, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z')
		}) || strings.Contains(d, "..") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			t.Fatalf("senderDomain(%q) = %q", s, d)
		}
	})
}

// FuzzReverseIP checks the query label of any address.
func FuzzReverseIP(f *testing.F) {
	f.Add([]byte{192, 0, 2, 1})
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		labels := strings.Split(reverseIP(a), ".")
		if want := map[bool]int{true: 4, false: 32}[a.Unmap().Is4()]; len(labels) != want {
			t.Fatalf("reverseIP(%s) has %d labels, want %d", a, len(labels), want)
		}
	})
}
