package message

import (
	"net/netip"
	"strings"
)

// maxReceivedScan bounds the bytes of one Received field looked at.
const maxReceivedScan = 4096

// ReceivedIP returns the first IP address in the n-th Received field
// from the top of header (n >= 1), as MailScanner's "Read IP Address
// From Received Header" reads it: an address in brackets ("[192.0.2.7]",
// "[IPv6:2001:db8::1]") first, else the first word that is an address.
func ReceivedIP(header []byte, n int) (netip.Addr, bool) {
	if n < 1 {
		return netip.Addr{}, false
	}
	for _, f := range HeaderFields(header) {
		if !strings.EqualFold(f.Name, "Received") {
			continue
		}
		if n--; n > 0 {
			continue
		}
		v := f.Value()
		if len(v) > maxReceivedScan {
			v = v[:maxReceivedScan]
		}
		return firstIP(v)
	}
	return netip.Addr{}, false
}

func firstIP(v string) (netip.Addr, bool) {
	for rest := v; ; {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			break
		}
		in := rest[i+1 : i+j]
		if len(in) > 5 && strings.EqualFold(in[:5], "IPv6:") {
			in = in[5:]
		}
		if a, err := netip.ParseAddr(in); err == nil {
			return a.Unmap(), true
		}
		rest = rest[i+j+1:]
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(" \t\r\n()[];,<>=", r) }) {
		if a, err := netip.ParseAddr(w); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
