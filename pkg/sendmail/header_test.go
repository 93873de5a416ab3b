package sendmail

import (
	"errors"
	"strings"
	"testing"
)

func TestHeaderValidation(t *testing.T) {
	tests := []struct{ name, value string }{
		{"X-Bad", "a\r\nBcc: victim@example"},
		{"X-Bad", "a\nb"},
		{"X-Bad", "a\rb"},
		{"X-Bad", "a\x00b"},
		{"", "v"},
		{"X Bad", "v"},
		{"X-Bad:", "v"},
		{"X-Bäd", "v"},
		{"X-\x01", "v"},
		{"X-Long", strings.Repeat("x", 1200)}, // one word cannot be folded
	}
	for _, tt := range tests {
		q := mustParse(t, minimal)
		for op, f := range map[string]func(string, string) error{
			"AddHeader": q.AddHeader, "AddHeaderTop": q.AddHeaderTop, "ReplaceHeader": q.ReplaceHeader,
		} {
			if err := f(tt.name, tt.value); !errors.Is(err, ErrBadHeader) {
				t.Errorf("%s(%q, %.30q) = %v, want ErrBadHeader", op, tt.name, tt.value, err)
			}
		}
		if got := string(q.Bytes()); got != minimal {
			t.Errorf("a refused edit changed the qf: %q", got)
		}
	}
}

func TestHeaderEdits(t *testing.T) {
	q := mustParse(t, minimal)
	steps := []error{
		q.AddHeader("X-Last", "1"),
		q.AddHeaderTop("X-First", "2"),
		q.ReplaceHeader("return-path", "<x@y>"), // keeps ?P? and position
		q.AddHeader("X-Dup", "a"),
		q.AddHeader("X-Dup", "b"),
		q.ReplaceHeader("x-dup", "c"),
		q.ReplaceHeader("X-New", "d"), // absent: added at the bottom
		q.AddHeader("X-8bit", "Gr\xc3\xbc\xc3\x9fe \xe2\x82\xac \xff"),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if n := q.DeleteHeader("SUBJECT"); n != 1 {
		t.Errorf("DeleteHeader(SUBJECT) = %d, want 1", n)
	}
	want := "V8\nT1795334826\nK0\nN0\nP31161\nFbs\n$_localhost [127.0.0.1]\n$rESMTP\n$svm\n${daemon_flags}\n" +
		"S<alice@sender.example>\nrRFC822; bob@example.test\nRPFD:<bob@example.test>\n" +
		"H??X-First: 2\nH?P?Return-Path: <x@y>\nH??X-Last: 1\nH??X-Dup: c\nH??X-New: d\n" +
		"H??X-8bit: Gr\xc3\xbc\xc3\xff\x9fe \xe2\xff\x82\xac \xff\xff\n.\n"
	if got := string(q.Bytes()); got != want {
		t.Errorf("after edits:\n got %q\nwant %q", got, want)
	}
	if got, _ := q.Header("X-8bit"); got != "Gr\xc3\xbc\xc3\x9fe \xe2\x82\xac \xff" {
		t.Errorf("Header(X-8bit) = %q: quoting does not round-trip", got)
	}
	if n := q.DeleteHeader("X-Nothing"); n != 0 {
		t.Errorf("DeleteHeader(X-Nothing) = %d, want 0", n)
	}
}

func TestAddHeaderWithoutHeaders(t *testing.T) {
	q := mustParse(t, "V8\nS<a@b>\nRP:<c@d>\n.\n")
	if err := q.AddHeaderTop("X-A", "1"); err != nil {
		t.Fatal(err)
	}
	if err := q.AddHeader("X-B", "2"); err != nil {
		t.Fatal(err)
	}
	if err := q.AddRecipient("e@f"); err != nil {
		t.Fatal(err)
	}
	want := "V8\nS<a@b>\nRP:<c@d>\nRP:<e@f>\nH??X-A: 1\nH??X-B: 2\n.\n"
	if got := string(q.Bytes()); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFold(t *testing.T) {
	word := strings.Repeat("w", 99)
	value := strings.TrimSpace(strings.Repeat(word+" ", 30)) // 2999 bytes
	q := mustParse(t, minimal)
	if err := q.ReplaceHeader("Subject", value); err != nil {
		t.Fatal(err)
	}
	got, _ := q.Header("Subject")
	if got != value {
		t.Errorf("folded Subject does not unfold to the value")
	}
	var lines int
	for _, l := range strings.Split(string(q.HeaderBlock()), "\n") {
		if len(l) > MaxHeaderLine {
			t.Errorf("header line of %d bytes", len(l))
		}
		if strings.HasPrefix(l, " ") {
			lines++
		}
	}
	if lines < 3 {
		t.Errorf("%d continuation lines, want at least 3", lines)
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "\x80\x81\x9f\xa0\xfe\xff", "\xff\xff", "é€ß"} {
		q := quote(s)
		if got := string(dequote(q)); got != s {
			t.Errorf("dequote(quote(%q)) = %q", s, got)
		}
		for i := 0; i < len(q); i++ {
			if c := q[i]; c&0xE0 == 0x80 && (i == 0 || q[i-1] != metaQuote) {
				t.Errorf("quote(%q) = %q leaves a bare metacharacter", s, q)
			}
		}
	}
}

func TestEqualFoldASCII(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Subject", "SUBJECT", true}, {"subject", "Subject", true}, {"x-a", "X-A", true},
		{"\u017fubject", "subject", false}, {"Subjec", "Subject", false}, {"Subjecu", "Subject", false},
	}
	for _, tt := range tests {
		if got := equalFoldASCII(tt.a, tt.b); got != tt.want {
			t.Errorf("equalFoldASCII(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
