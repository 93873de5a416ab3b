package ruleset

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestValue(t *testing.T) {
	tests := []struct {
		rules string
		m     Msg
		want  string // "" = no value
		line  int
	}{
		// Full addresses, case and trailing dots.
		{"From: user@example.com yes", Msg{From: "USER@Example.COM"}, "yes", 1},
		{"From: user@example.com yes", Msg{From: "<user@example.com>"}, "yes", 1},
		{"From: user@example.com yes", Msg{From: "user@example.com."}, "yes", 1},
		{"From: user@example.com. yes", Msg{From: "user@example.com"}, "", 0},
		{"From: user@example.com yes", Msg{From: "xuser@example.com"}, "", 0},
		{"From: user@example.com yes", Msg{From: "user@example.com.au"}, "", 0},
		{"From: user@example.com yes", Msg{To: []string{"user@example.com"}}, "", 0},
		// Domains: a bare domain is that domain only.
		{"From: example.com yes", Msg{From: "a@example.com"}, "yes", 1},
		{"From: example.com yes", Msg{From: "a@mail.example.com"}, "", 0},
		{"From: example.com yes", Msg{From: "a@badexample.com"}, "", 0},
		{"From: @example.com yes", Msg{From: "a@EXAMPLE.com"}, "yes", 1},
		{"From: *@example.com yes", Msg{From: "a@example.com"}, "yes", 1},
		{"From: *.example.com yes", Msg{From: "a@mx.example.com"}, "yes", 1},
		{"From: *.example.com yes", Msg{From: "a@example.com"}, "", 0},
		{"From: *@*.example.com yes", Msg{From: "a@b.c.example.com"}, "yes", 1},
		{"From: user@* yes", Msg{From: "user@anything.test"}, "yes", 1},
		{"From: user@ yes", Msg{From: "user@anything.test"}, "yes", 1},
		{"From: user@ yes", Msg{From: "user2@anything.test"}, "", 0},
		{"From: a*b@x.org yes", Msg{From: "a-and-b@x.org"}, "yes", 1},
		{"From: a.b@x.org yes", Msg{From: "aXb@x.org"}, "", 0}, // dots are literal, not regex
		{"From: a?b@x.org yes", Msg{From: "acb@x.org"}, "", 0},
		// Null sender.
		{"From: *@* yes\nFrom: example.com no", Msg{From: "<>"}, "yes", 1},
		{"From: example.com no", Msg{From: ""}, "", 0},
		// Regular expressions.
		{`From: /^(ceo|cfo)@example\.com$/ vip`, Msg{From: "CFO@example.com"}, "vip", 1},
		{`From: /^(ceo|cfo)@example\.com$/i vip`, Msg{From: "cfo@example.com"}, "vip", 1},
		{`From: /spam/ x`, Msg{From: "nospamhere@x.org"}, "x", 1}, // unanchored
		{`To: /@example\.(com|org)$/ x`, Msg{To: []string{"a@b.net", "c@example.org"}}, "x", 1},
		{`From: /^192\.168\.13[4567]\./ ip`, Msg{From: "a@b", ClientIP: ip("192.168.135.1")}, "ip", 1},
		{`From: /^192\.168\.13[4567]\./ ip`, Msg{From: "192.168.135.1@b", ClientIP: ip("10.0.0.1")}, "", 0},
		// Client addresses.
		{"From: 192.168. lan", Msg{ClientIP: ip("192.168.200.9")}, "lan", 1},
		{"From: 192.168 lan", Msg{ClientIP: ip("192.168.200.9")}, "lan", 1},
		{"From: 192.168.21 lan", Msg{ClientIP: ip("192.168.210.1")}, "", 0}, // octet prefix, not string prefix
		{"From: 10. lan", Msg{ClientIP: ip("::ffff:10.9.8.7")}, "lan", 1},
		{"From: 10. lan", Msg{ClientIP: ip("110.9.8.7")}, "", 0},
		{"From: 10. lan", Msg{From: "a@b"}, "", 0}, // no client address
		{"From: 127.0.0.1 lo", Msg{ClientIP: ip("127.0.0.1")}, "lo", 1},
		{"From: 127.0.0.1 lo", Msg{ClientIP: ip("127.0.0.10")}, "", 0},
		{"From: 10.0.0.0/8 a", Msg{ClientIP: ip("10.255.0.1")}, "a", 1},
		{"From: 10.1.2.3/8 a", Msg{ClientIP: ip("10.200.0.1")}, "a", 1}, // host bits ignored
		{"From: 172.16.0.0/255.240.0.0 a", Msg{ClientIP: ip("172.31.1.1")}, "a", 1},
		{"From: 172.16.0.0/255.240.0.0 a", Msg{ClientIP: ip("172.32.1.1")}, "", 0},
		{"From: 10.0.0.5-10.0.1.5 r", Msg{ClientIP: ip("10.0.0.200")}, "r", 1},
		{"From: 10.0.0.5-10.0.1.5 r", Msg{ClientIP: ip("10.0.1.6")}, "", 0},
		{"From: 2001:db8::/32 v6", Msg{ClientIP: ip("2001:DB8:1::25")}, "v6", 1},
		{"From: 2001:db8::/32 v6", Msg{ClientIP: ip("2001:db9::25")}, "", 0},
		{"From: 2001:db8: v6", Msg{ClientIP: ip("2001:db8:ffff::1")}, "v6", 1},
		{"From: 2001:db8:a: v6", Msg{ClientIP: ip("2001:db8:b::1")}, "", 0},
		{"From: ::1 v6", Msg{ClientIP: ip("::1")}, "v6", 1},
		{"From: 10.0.0.0/8 a", Msg{ClientIP: ip("2001:db8::1")}, "", 0},
		{"FromOrTo: 10. a", Msg{ClientIP: ip("10.0.0.1"), To: []string{"x@y"}}, "a", 1},
		// Domains that look like hex are still domains.
		{"From: dead.be x", Msg{From: "a@dead.be"}, "x", 1},
		// Directions.
		{"To: *@example.com in", Msg{From: "a@example.com", To: []string{"b@other.org"}}, "", 0},
		{"To: *@example.com in", Msg{To: []string{"b@other.org", "c@EXAMPLE.com"}}, "in", 1},
		{"FromOrTo: example.com any", Msg{From: "a@example.com"}, "any", 1},
		{"FromOrTo: example.com any", Msg{From: "a@x.org", To: []string{"b@example.com"}}, "any", 1},
		{"FromAndTo: example.com both", Msg{From: "a@example.com", To: []string{"b@x.org"}}, "", 0},
		{"FromAndTo: example.com both", Msg{From: "a@example.com", To: []string{"b@x.org", "c@example.com"}}, "", 0}, // every recipient
		{"FromAndTo: example.com both", Msg{From: "a@example.com", To: []string{"b@Example.com", "c@example.com."}}, "both", 1},
		{"FromAndTo: example.com both", Msg{From: "a@x.org", To: []string{"b@example.com"}}, "", 0},
		{"FromAndTo: example.com both", Msg{From: "a@example.com"}, "", 0}, // no recipients: no match
		{"From: trapme.com and To: abuse@* deliver", Msg{From: "x@trapme.com", To: []string{"abuse@site.org"}}, "deliver", 1},
		{"From: trapme.com and To: abuse@* deliver", Msg{From: "x@trapme.com", To: []string{"sales@site.org"}}, "", 0},
		{"From: trapme.com and To: abuse@* deliver", Msg{From: "x@other.com", To: []string{"abuse@site.org"}}, "", 0},
		{"From: 10. and To: postmaster@* local", Msg{ClientIP: ip("10.1.1.1"), To: []string{"postmaster@x"}}, "local", 1},
		{"To: a@x and To: b@x both", Msg{To: []string{"a@x", "b@x"}}, "both", 1}, // sides checked independently
		{"To: a@x and To: b@x both", Msg{To: []string{"a@x", "c@x"}}, "", 0},
		{"From: a@x and FromAndTo: *.org mixed", Msg{From: "a@x", To: []string{"b@y.org"}}, "", 0},
		{"Virus: sobig no", Msg{Virus: []string{"W32/Sobig.F@mm"}}, "no", 1},
		{"Virus: sobig no", Msg{Virus: []string{"Eicar-Test-Signature"}}, "", 0},
		{"Virus: eicar*sig x", Msg{Virus: []string{"Win.Test.EICAR_HDB-1 signature"}}, "x", 1},
		{"Virus: /^eicar-/ x", Msg{Virus: []string{"Win.Test.EICAR_HDB-1", "Eicar-Test-Signature"}}, "x", 1},
		{"Virus: sobig and To: *@example.com no", Msg{Virus: []string{"Sobig"}, To: []string{"a@example.com"}}, "no", 1},
		// Hosts.
		{"From: host:example.com h", Msg{ClientHost: "mail.Example.com.", HostVerified: true}, "h", 1},
		{"From: host:example.com h", Msg{ClientHost: "badexample.com", HostVerified: true}, "", 0},
		{"From: host:example.com h", Msg{ClientHost: "mail.example.com", HostVerified: false}, "", 0},
		{"From: host-nocheck:example.com h", Msg{ClientHost: "mail.example.com"}, "h", 1},
		{"From: host:mail*.example.com h", Msg{ClientHost: "x.mail7.example.com", HostVerified: true}, "h", 1},
		{"From: host:/^mx[0-9]+\\./ h", Msg{ClientHost: "MX12.example.net", HostVerified: true}, "h", 1},
		{"From: host: noptr", Msg{ClientIP: ip("192.0.2.1")}, "noptr", 1},
		{"From: host: noptr", Msg{ClientHost: "a.example", HostVerified: true}, "", 0},
		{"From: host:_SPOOFED_ spoof", Msg{ClientHost: "a.example"}, "spoof", 1},
		{"From: host:_SPOOFED_ spoof", Msg{ClientHost: "a.example", HostVerified: true}, "", 0},
		// First match wins, in file order; the default's position does not matter.
		{"From: a@x first\nFrom: x second", Msg{From: "a@x"}, "first", 1},
		{"From: x second\nFrom: a@x first", Msg{From: "a@x"}, "second", 1},
		{"FromOrTo: default d\nFrom: a@x rule", Msg{From: "a@x"}, "rule", 2},
		{"FromOrTo: default d\nFrom: a@x rule", Msg{From: "b@x"}, "d", 1},
		{"From: *@* everyone\nFrom: a@x rule", Msg{From: "a@x"}, "rule", 2},
		{"To: c@x two words  value \nFrom: a@x rule", Msg{To: []string{"c@x"}}, "two words  value", 1},
		{"From: x@y ticket#1 stays", Msg{From: "x@y"}, "ticket#1 stays", 1},
		{"From: x@y \"quoted value\"", Msg{From: "x@y"}, `"quoted value"`, 1},
		{"", Msg{From: "a@b"}, "", 0},
	}
	for _, tt := range tests {
		rs := mustParse(t, tt.rules)
		v, at, ok := rs.Explain(tt.m)
		wantAt := ""
		if tt.line > 0 {
			wantAt = "t.rules:" + strconv.Itoa(tt.line)
		}
		if v != tt.want || ok != (tt.want != "") || at != wantAt {
			t.Errorf("rules %q: Explain(%+v) = %q, %q, %v; want %q, %q", tt.rules, tt.m, v, at, ok, tt.want, wantAt)
		}
		if v2, ok2 := rs.Value(tt.m); v2 != v || ok2 != ok {
			t.Errorf("rules %q: Value(%+v) = %q, %v; Explain said %q, %v", tt.rules, tt.m, v2, ok2, v, ok)
		}
	}
}

const multi = `# The values of every matching rule are used for "All" options.
To: sales@example.com      yes
To: *@example.com          no
From: partner.example      partner
FromOrTo: default          default
`

func TestAll(t *testing.T) {
	rs := mustParse(t, multi)
	tests := []struct {
		m    Msg
		want []string
	}{
		{Msg{To: []string{"sales@example.com"}}, []string{"yes", "no"}},
		{Msg{To: []string{"a@example.com", "sales@example.com"}}, []string{"yes", "no"}},
		{Msg{From: "x@partner.example", To: []string{"a@example.com"}}, []string{"no", "partner"}},
		{Msg{From: "x@elsewhere", To: []string{"a@elsewhere"}}, []string{"default"}},
	}
	for _, tt := range tests {
		if got := rs.All(tt.m); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("All(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got := mustParse(t, "To: a@b x").All(Msg{To: []string{"c@d"}}); got != nil {
		t.Errorf("All(no match, no default) = %q, want nil", got)
	}
}

func TestPerRecipient(t *testing.T) {
	rs := mustParse(t, "To: boss@example.com no\nTo: *@example.com yes\n")
	tests := []struct {
		to      []string
		per     []string
		anyYes  bool
		first   string
		allVals []string
	}{
		{[]string{"boss@example.com"}, []string{"no"}, false, "no", []string{"no", "yes"}},
		{[]string{"boss@example.com", "staff@example.com"}, []string{"no", "yes"}, true, "no", []string{"no", "yes"}},
		{[]string{"a@other.org"}, []string{""}, false, "", nil},
		{[]string{"a@other.org", "staff@EXAMPLE.COM"}, []string{"", "yes"}, true, "yes", []string{"yes"}},
		{nil, []string{""}, false, "", nil},
	}
	for _, tt := range tests {
		m := Msg{From: "x@y", To: tt.to}
		if got := rs.PerRecipient(m); !reflect.DeepEqual(got, tt.per) {
			t.Errorf("PerRecipient(%q) = %q, want %q", tt.to, got, tt.per)
		}
		if got := rs.AnyRecipient(m, IsYes); got != tt.anyYes {
			t.Errorf("AnyRecipient(%q, IsYes) = %v, want %v", tt.to, got, tt.anyYes)
		}
		if got, _ := rs.Value(m); got != tt.first {
			t.Errorf("Value(%q) = %q, want %q", tt.to, got, tt.first)
		}
		if got := rs.All(m); !reflect.DeepEqual(got, tt.allVals) {
			t.Errorf("All(%q) = %q, want %q", tt.to, got, tt.allVals)
		}
	}
	// With no recipients a From rule still decides.
	if !mustParse(t, "From: a@b yes").AnyRecipient(Msg{From: "a@b"}, IsYes) {
		t.Error("AnyRecipient(no recipients, From rule yes) = false, want true")
	}
}

func TestYes(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"yes", true, false}, {"YES", true, false}, {" 1 ", true, false}, {"on", true, false}, {"true", true, false},
		{"no", false, false}, {"0", false, false}, {"Off", false, false}, {"false", false, false},
		{"", false, true}, {"y", false, true}, {"yes please", false, true},
	}
	for _, tt := range tests {
		got, err := Yes(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Yes(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		g, s string
		want bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "abc", true}, {"a", "a", true}, {"a", "b", false},
		{"a*c", "abbbc", true}, {"a*c", "abbbcd", false}, {"*@x.org", "a@x.org", true},
		{"*a*a*a*b", strings.Repeat("a", 200), false}, {"**a", "ba", true}, {"a*", "", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.g, tt.s); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.g, tt.s, got, tt.want)
		}
	}
}

func TestMaxAddress(t *testing.T) {
	rs, err := Parse("t.rules", []byte("From: *@example.com yes\nFrom: /^long/ trunc"), Options{MaxAddress: 16})
	if err != nil {
		t.Fatal(err)
	}
	// Only the first 16 bytes are compared, so the domain is out of sight.
	long := strings.Repeat("l", 20) + "@example.com"
	if v, _ := rs.Value(Msg{From: long}); v != "" {
		t.Errorf("Value(%q) = %q, want no match (truncated)", long, v)
	}
	if v, _ := rs.Value(Msg{From: "long" + long}); v != "trunc" {
		t.Errorf("Value(long prefix) = %q, want trunc", v)
	}
}

func BenchmarkValue(b *testing.B) {
	var src strings.Builder
	for i := range 1000 {
		src.WriteString("To: user" + string(rune('a'+i%26)) + "*@dept" + string(rune('a'+i%26)) + ".example.com no\n")
	}
	src.WriteString("From: 10.0.0.0/8 yes\nFromOrTo: default yes\n")
	rs, err := Parse("b.rules", []byte(src.String()), Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := Msg{From: "someone@outside.test", To: []string{"a@x.org", "b@y.org", "c@z.org"}, ClientIP: ip("192.0.2.1")}
	for b.Loop() {
		rs.Value(m)
	}
}

// TestHostileAddresses feeds envelope values an attacker controls; each must
// give a plain answer (bad-inputs.md: huge and odd addresses).
func TestHostileAddresses(t *testing.T) {
	rs := mustParse(t, "From: *@example.com known\nFrom: /^x+$/ re\nFrom: *a*a*a*a*a*a*a*b@* stars\nFromOrTo: default other\n")
	huge := strings.Repeat("x", 1<<20) + "@example.com"
	tests := []struct {
		from string
		want string
	}{
		{huge, "re"}, // truncated to MaxAddress (1024) before matching: the domain is cut off
		{strings.Repeat("x", 1<<20), "re"},
		{strings.Repeat("a", 5000) + "@example.org", "other"},
		{"a\x00b@example.com", "known"},
		{"a@example.com\r\nTo: admin@example.com", "other"}, // * does not cross a newline
		{"<<a@example.com>>", "other"},
		{"  <A@EXAMPLE.COM>  ", "known"},
		{"\xff\xfe@example.com", "known"},
	}
	for _, tt := range tests {
		if got, _ := rs.Value(Msg{From: tt.from, To: []string{tt.from}}); got != tt.want {
			t.Errorf("Value(From %.40q) = %q, want %q", tt.from, got, tt.want)
		}
	}
}

func BenchmarkHostileGlob(b *testing.B) {
	rs, err := Parse("b.rules", []byte("From: "+strings.Repeat("*a", 200)+"*b@* x\n"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := Msg{From: strings.Repeat("a", 4000)}
	for b.Loop() {
		rs.Value(m)
	}
}
