package ruleset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Ruleset {
	t.Helper()
	rs, err := Parse("t.rules", []byte(src), Options{})
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return rs
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		want []string // every error line, in order
		is   error
	}{
		{"Form: a@b yes", []string{`t.rules:1: unknown direction "Form:" (want From:, To:, FromOrTo:, FromAndTo: or Virus:)`}, ErrUnknownDirection},
		{"From:", []string{"t.rules:1: From: without a pattern"}, ErrSyntax},
		{"From: a@b", []string{"t.rules:1: From: a@b without a value"}, ErrSyntax},
		{"# c\n\nTo: x@y   # only a comment", []string{"t.rules:3: To: x@y without a value"}, ErrSyntax},
		{"default", []string{"t.rules:1: default without a value"}, ErrSyntax},
		{"From: /a(?=b)/ yes", []string{"t.rules:1: regex /a(?=b)/: look-around (?=...) not supported (Go RE2 syntax)"}, ErrPattern},
		{"From: /(a)\\1/ yes", []string{`t.rules:1: regex /(a)\1/: back-reference \1 not supported (Go RE2 syntax)`}, ErrPattern},
		{"From: /a*+/ yes", []string{"t.rules:1: regex /a*+/: possessive quantifier *+ not supported (Go RE2 syntax)"}, ErrPattern},
		{"From: /(?>ab)/ yes", []string{"t.rules:1: regex /(?>ab)/: atomic group (?>...) not supported (Go RE2 syntax)"}, ErrPattern},
		{"From: /ab\\Z/ yes", []string{`t.rules:1: regex /ab\Z/: \Z (use $ or \z) not supported (Go RE2 syntax)`}, ErrPattern},
		{"From: /a[/ yes", []string{"t.rules:1: regex /a[/: error parsing regexp: missing closing ]: `[`"}, ErrPattern},
		{"From: // yes", []string{"t.rules:1: regex //: empty"}, ErrPattern},
		{"From: 10.0.0.0/33 yes", []string{`t.rules:1: network "10.0.0.0/33": netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`}, ErrPattern},
		{"From: 10.0.0.0/255.0.255.0 yes", []string{`t.rules:1: network "10.0.0.0/255.0.255.0": mask "255.0.255.0": not contiguous`}, ErrPattern},
		{"From: 300.1. yes", []string{`t.rules:1: address prefix "300.1.": octet "300": not 0-255`}, ErrPattern},
		{"From: 1.2.3.4.5 yes", []string{`t.rules:1: address prefix "1.2.3.4.5": more than 4 octets`}, ErrPattern},
		{"From: 10.0.0.9-10.0.0.1 yes", []string{`t.rules:1: address range "10.0.0.9-10.0.0.1": ends differ in family or are reversed`}, ErrPattern},
		{"To: 10. yes", []string{`t.rules:1: pattern "10." matches the client, not a recipient (use From: or FromOrTo:)`}, ErrPattern},
		{"FromAndTo: host:x.org yes", []string{`t.rules:1: pattern "host:x.org" matches the client, not a recipient (use From: or FromOrTo:)`}, ErrPattern},
		{"From: host:a@b yes", []string{`t.rules:1: host pattern "a@b": not a host name`}, ErrPattern},
		{"From: a\"b@c yes", []string{`t.rules:1: address pattern "a\"b@c": contains white space or one of <>"\`}, ErrPattern},
		{"From: /etc/nonexistent.list yes", []string{"t.rules:1: pattern file: ruleset read /etc/nonexistent.list: pattern files not allowed here"}, ErrPattern},
		{"From: a and To: b", []string{"t.rules:1: To: b without a value"}, ErrSyntax},
		{"From: a and Bcc: b yes", []string{`t.rules:1: unknown direction "Bcc:" (want From:, To:, FromOrTo:, FromAndTo: or Virus:)`}, ErrUnknownDirection},
		{"From: a and To: b and To: c yes", []string{"t.rules:1: only one 'and' clause allowed"}, ErrSyntax},
		{"From: default and To: b yes", []string{"t.rules:1: 'default' cannot be part of an 'and' rule (use *)"}, ErrPattern},
		{"FromOrTo: default no\nFrom: * yes", []string{"t.rules:2: second default value (first at t.rules:1)"}, ErrDuplicateDefault},
		{
			// Every problem at once, with its own line.
			"From: a@b yes\nTo yes\nFrom: /(/ no\n\nVirus: x\nFromOrTo: default no\ndefault yes\n",
			[]string{
				"t.rules:2: To yes without a value",
				"t.rules:3: regex /(/: error parsing regexp: missing closing ): `(`",
				"t.rules:5: Virus: x without a value",
				"t.rules:7: second default value (first at t.rules:6)",
			},
			ErrSyntax,
		},
	}
	for _, tt := range tests {
		_, err := Parse("t.rules", []byte(tt.src), Options{})
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want %q", tt.src, tt.want)
			continue
		}
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("Parse(%q) error %T, want Errors", tt.src, err)
			continue
		}
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) errors\n got %q\nwant %q", tt.src, got, tt.want)
		}
		if !errors.Is(err, tt.is) {
			t.Errorf("Parse(%q): errors.Is(err, %v) = false", tt.src, tt.is)
		}
		if err.Error() != strings.Join(tt.want, "\n") {
			t.Errorf("Parse(%q).Error() = %q", tt.src, err.Error())
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		src      string
		rules    int
		def      string
		usesHost bool
	}{
		{"", 0, "", false},
		{"# only comments\n   # indented\n\n", 0, "", false},
		{"From: a@b yes\r\nTo: c@d no\r\n", 2, "", false},
		{"FROM a@b yes\nfromorto: c no\nFrom-And-To: x.org y\nVIRUS: sobig no", 4, "", false},
		{"FromOrTo: default no", 0, "no", false},
		{"default store notify", 0, "store notify", false},
		{"To: * deliver", 0, "deliver", false},
		{"From: *@* yes  # trailing comment", 0, "yes", false},
		{"Virus: default no", 0, "no", false},
		{"From: a@b yes\nFromOrTo: default no\nTo: c@d x", 2, "no", false},
		{"From: host:mail.example.com yes", 1, "", true},
		{"From: host-nocheck:/^mx\\d+\\./ yes", 1, "", true},
		{"From: host: no\nFrom: host:_SPOOFED_ no", 2, "", true},
		{"From: trapme.com and To: abuse@* deliver", 1, "", false},
		{"From: 10.0.0.1-10.0.0.200 a\nFrom: 192.168.21.0/255.255.255.0 b\nFrom: 2001:db8::/32 c\nFrom: 2001:db8: d\nFrom: ::1 e", 5, "", false},
	}
	for _, tt := range tests {
		rs := mustParse(t, tt.src)
		def, _ := rs.Default()
		if rs.Len() != tt.rules || def != tt.def || rs.UsesHost() != tt.usesHost {
			t.Errorf("Parse(%q) = %d rules, default %q, usesHost %v; want %d, %q, %v",
				tt.src, rs.Len(), def, rs.UsesHost(), tt.rules, tt.def, tt.usesHost)
		}
	}
}

func TestParseLimits(t *testing.T) {
	opt := Options{MaxFileSize: 100, MaxRules: 3, MaxLineLength: 40}
	if _, err := Parse("big.rules", []byte(strings.Repeat("#", 101)), opt); !errors.Is(err, ErrLimit) {
		t.Errorf("Parse(101 bytes, max 100) = %v, want ErrLimit", err)
	}
	_, err := Parse("long.rules", []byte("From: a@b yes\nFrom: "+strings.Repeat("x", 40)+" yes\n"), opt)
	if err == nil || !errors.Is(err, ErrLimit) || !strings.HasPrefix(err.Error(), "long.rules:2: line is 50 bytes, more than 40") {
		t.Errorf("Parse(long line) = %v, want long.rules:2 line limit", err)
	}
	_, err = Parse("many.rules", []byte("From: a yes\nFrom: b yes\nFrom: c yes\nFrom: d yes\nFrom: e yes\n"), opt)
	if err == nil || err.Error() != "many.rules:4: more than 3 rules and patterns" {
		t.Errorf("Parse(5 rules, max 3) = %v, want one error at line 4", err)
	}
	big := strings.Repeat("From: a@b yes\n", DefaultMaxRules)
	if _, err := Parse("max.rules", []byte(big), Options{}); err != nil {
		t.Errorf("Parse(%d rules) = %v, want ok at the limit", DefaultMaxRules, err)
	}
	if _, err := Parse("over.rules", []byte(big+"To: x y\n"), Options{}); !errors.Is(err, ErrLimit) {
		t.Errorf("Parse(%d rules) = %v, want ErrLimit", DefaultMaxRules+1, err)
	}
}

func TestPatternFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	partners := write("partners.list", "# partner domains\npartner.example\n*@*.partner.example\n\n10.1.\n")
	nested := write("nested.list", "boss@example.com\n"+partners+"\n")
	bad := write("bad.list", "ok.example\n/(/\n")
	main := write("main.rules", fmt.Sprintf("From: %s no\nTo: %s never\nFromOrTo: default yes\n", nested, "boss@example.com"))

	rs, err := ParseFile(main, Options{})
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	for _, m := range []Msg{{From: "a@partner.example"}, {From: "x@mx.partner.example"}, {From: "boss@example.com"}, {ClientIP: ip("10.1.2.3")}} {
		if v, at, _ := rs.Explain(m); v != "no" || at != main+":1" {
			t.Errorf("Explain(%+v) = %q at %q, want no at %s:1", m, v, at, main)
		}
	}
	if v, _ := rs.Value(Msg{From: "a@other.example"}); v != "yes" {
		t.Errorf("Value(other) = %q, want yes", v)
	}

	_, err = ParseFile(write("b.rules", "From: "+bad+" no\n"), Options{})
	if err == nil || err.Error() != bad+":2: regex /(/: error parsing regexp: missing closing ): `(`" {
		t.Errorf("ParseFile(bad pattern file) = %v, want error at %s:2", err, bad)
	}

	loop := filepath.Join(dir, "loop.list")
	write("loop.list", loop+"\n")
	_, err = ParseFile(write("l.rules", "From: "+loop+" no\n"), Options{})
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "nested more than 4 deep") {
		t.Errorf("ParseFile(self-including pattern file) = %v, want nesting limit", err)
	}

	// Parse (bytes) only reads pattern files through Options.ReadFile.
	fake := func(name string) ([]byte, error) {
		if name == "/virtual/list" {
			return []byte("a@b\n"), nil
		}
		return nil, os.ErrNotExist
	}
	rs, err = Parse("v.rules", []byte("To: /virtual/list hit\n"), Options{ReadFile: fake})
	if err != nil {
		t.Fatalf("Parse with ReadFile: %v", err)
	}
	if v, _ := rs.Value(Msg{To: []string{"A@B"}}); v != "hit" {
		t.Errorf("Value via virtual pattern file = %q, want hit", v)
	}
}

func TestCheckValues(t *testing.T) {
	rs := mustParse(t, "From: a@b yes\nTo: c@d maybe\nFromOrTo: default perhaps\nFrom: e@f 0\n")
	err := rs.CheckValues(func(v string) error { _, err := Yes(v); return err })
	want := `t.rules:2: value "maybe": ruleset yes/no "maybe": ruleset: bad value` + "\n" +
		`t.rules:3: value "perhaps": ruleset yes/no "perhaps": ruleset: bad value`
	if err == nil || err.Error() != want || !errors.Is(err, ErrValue) {
		t.Errorf("CheckValues = %v\nwant %s", err, want)
	}
	if err := mustParse(t, "From: a yes\ndefault no").CheckValues(func(v string) error { _, err := Yes(v); return err }); err != nil {
		t.Errorf("CheckValues(yes/no) = %v, want nil", err)
	}
}
