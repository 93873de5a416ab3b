package spam

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func TestListMatch(t *testing.T) {
	l, err := ParseList([]string{
		"# friends",
		"",
		"Boss@Example.COM",
		"*@partner.example",
		"vendor.example",
		"@other.example",
		"*.corp.example",
		"192.0.2.7",
		"10.0.0.0/8",
		"198.51.",
		"2001:db8:1::/48",
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 9 {
		t.Errorf("Len = %d, want 9", l.Len())
	}
	none := netip.Addr{}
	tests := []struct {
		sender string
		ip     string
		want   bool
	}{
		{"boss@example.com", "", true},
		{"<BOSS@example.com>", "", true},
		{"boss@example.com.", "", true},
		{"other@example.com", "", false},
		{"anyone@partner.example", "", true},
		{"anyone@sub.partner.example", "", false},
		{"x@vendor.example", "", true},
		{"x@other.example", "", true},
		{"x@a.corp.example", "", true},
		{"x@a.b.corp.example", "", true},
		{"x@corp.example", "", false},
		{"x@evilcorp.example", "", false},
		{"", "192.0.2.7", true},
		{"<>", "192.0.2.8", false},
		{"", "10.200.1.1", true},
		{"", "::ffff:10.1.1.1", true},
		{"", "198.51.100.1", true},
		{"", "198.52.0.1", false},
		{"", "2001:db8:1::5", true},
		{"", "2001:db8:2::5", false},
		{"vendor.example", "", false},
		{"@vendor.example", "", false},
		{"x@y@vendor.example", "", true}, // last @ decides the domain
	}
	for _, tt := range tests {
		ip := none
		if tt.ip != "" {
			ip = netip.MustParseAddr(tt.ip)
		}
		if got := l.Match(tt.sender, ip); got != tt.want {
			t.Errorf("Match(%q, %s) = %v, want %v", tt.sender, tt.ip, got, tt.want)
		}
	}
	var nilList *List
	if nilList.Match("boss@example.com", none) {
		t.Error("nil list matched")
	}
}

func TestParseListErrors(t *testing.T) {
	bad := []string{"not a domain", "localhost", "a@b@c.example", "x@*.corp.example", "10.0.0.0/33", "1.2.3.4.", "300.1.", "a b@example.com", "*x@example.com"}
	_, err := ParseList(bad)
	if err == nil {
		t.Fatal("ParseList(bad) succeeded")
	}
	for i, e := range bad {
		if !strings.Contains(err.Error(), strconv.Quote(e)) {
			t.Errorf("error %q does not name entry %d %q", err, i+1, e)
		}
	}
}
