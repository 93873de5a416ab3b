package sendmail

import (
	"net/netip"
	"testing"
)

func TestParseClient(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		in   string
		want Client
	}{
		{"localhost [127.0.0.1]", Client{Host: "localhost", IP: ip("127.0.0.1")}},
		{"mail.example.org [192.0.2.25]", Client{Host: "mail.example.org", IP: ip("192.0.2.25")}},
		{"mail.example.org [192.0.2.25] (may be forged)", Client{Host: "mail.example.org", IP: ip("192.0.2.25")}},
		{"[192.0.2.25]", Client{IP: ip("192.0.2.25")}},
		{"user@host.example [IPv6:2001:db8::1]", Client{Ident: "user", Host: "host.example", IP: ip("2001:db8::1")}},
		{"[IPv6:0:0:0:0:0:0:0:1]", Client{IP: ip("::1")}},
		{"h [ipv6:::ffff:192.0.2.1]", Client{Host: "h", IP: ip("192.0.2.1")}},
		{"root@localhost", Client{Ident: "root", Host: "localhost", Local: true}},
		{"localhost", Client{Host: "localhost", Local: true}},
		{"", Client{Local: true}},
		{"host [not-an-ip]", Client{Host: "host"}},
		{"host [192.0.2.1", Client{Host: "host"}},
		{"host [IPv6:]", Client{Host: "host"}},
		{"[]", Client{}},
	}
	for _, tt := range tests {
		if got := ParseClient(tt.in); got != tt.want {
			t.Errorf("ParseClient(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestQfClientWithoutMacro(t *testing.T) {
	q := mustParse(t, "V8\nS<a@b>\nRP:<c@d>\n.\n")
	if c := q.Client(); c != (Client{}) {
		t.Errorf("Client() without $_ = %+v, want zero", c)
	}
	if q.ClientIP().IsValid() || q.ClientHost() != "" {
		t.Errorf("ClientIP, ClientHost = %v, %q; want invalid, empty", q.ClientIP(), q.ClientHost())
	}
}

func TestStripBrackets(t *testing.T) {
	for in, want := range map[string]string{
		"<a@b>": "a@b", "<>": "", "a@b": "a@b", " <a@b> ": "a@b", "<a@b": "<a@b", "< a@b >": "a@b", "": "",
	} {
		if got := stripBrackets(in); got != want {
			t.Errorf("stripBrackets(%q) = %q, want %q", in, got, want)
		}
	}
}
