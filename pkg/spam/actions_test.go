package spam

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseActions(t *testing.T) {
	tests := []struct {
		in   string
		want Actions
	}{
		{"deliver", Actions{{Kind: ActDeliver}}},
		{`deliver header "X-Spam-Status: Yes"`, Actions{{Kind: ActDeliver}, {Kind: ActHeader, Name: "X-Spam-Status", Value: "Yes"}}},
		{"Store  forward spam@example.com\tnotify", Actions{{Kind: ActStore}, {Kind: ActForward, Addr: "spam@example.com"}, {Kind: ActNotify}}},
		{"spam@example.com delete", Actions{{Kind: ActForward, Addr: "spam@example.com"}, {Kind: ActDelete}}},
		{"bounce striphtml attachment deliver", Actions{{Kind: ActBounce}, {Kind: ActStripHTML}, {Kind: ActAttachment}, {Kind: ActDeliver}}},
		{`header "X-Quoted: say \"hi\" to _TO_"`, Actions{{Kind: ActHeader, Name: "X-Quoted", Value: `say "hi" to _TO_`}}},
		{`header X-Bare:yes`, Actions{{Kind: ActHeader, Name: "X-Bare", Value: "yes"}}},
		// Bytes a Go-quoted string would escape (\t, \x8a, \u00a0) go out
		// as they are: the parser knows only \" and \\.
		{"header \"X-Odd: a\tb \\\\ \x8a \u00a0 \\\"q\\\"\"", Actions{{Kind: ActHeader, Name: "X-Odd", Value: "a\tb \\ \x8a \u00a0 \"q\""}}},
	}
	for _, tt := range tests {
		got, err := ParseActions(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseActions(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if err == nil {
			again, err := ParseActions(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("ParseActions(%q.String() = %q) = %+v, %v; want a round trip", tt.in, got.String(), again, err)
			}
		}
	}
}

func TestParseActionsErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // parts of the error text
	}{
		{"", []string{"no actions"}},
		{"deliver frobnicate", []string{`unknown action "frobnicate"`}},
		{"deliver delete", []string{"deliver and delete together"}},
		{"forward", []string{"forward needs an argument"}},
		{"forward not-an-address", []string{`forward: bad address "not-an-address"`}},
		{"forward <a@example.com>", []string{"bad address"}},
		{"forward a@localhost", []string{"bad address"}},
		{`header "NoColon"`, []string{`want "Name: value"`}},
		{`header "Bad Name: x"`, []string{`want "Name: value"`}},
		{"header \"X-Evil: a\r\nBcc: victim@example.com\"", []string{"control characters"}},
		{`deliver "header"`, []string{`unknown action "header"`}},
		{`header "X-A: b`, []string{"unterminated quote"}},
		{"custom(foo) bogus", []string{`unknown action "custom(foo)"`, `unknown action "bogus"`}},
		{strings.Repeat("deliver ", 600), []string{"longer than"}},
		// 4092 bytes, but String writes 5207 (header "X: y"), which would
		// not read back.
		{strings.Repeat("header X:y ", 372), []string{"longer than 4096 bytes when written out"}},
	}
	for _, tt := range tests {
		got, err := ParseActions(tt.in)
		if err == nil || !errors.Is(err, ErrActions) {
			t.Errorf("ParseActions(%q) = %+v, %v; want an ErrActions error", tt.in, got, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseActions(%q) error %q lacks %q", tt.in, err, w)
			}
		}
	}
}

func TestActionsDelivers(t *testing.T) {
	as, _ := ParseActions("store forward a@example.com")
	if as.Delivers() || !as.Has(ActStore) || !as.Has(ActForward) {
		t.Errorf("Actions %v: Delivers %v Has(store) %v", as, as.Delivers(), as.Has(ActStore))
	}
}

// FuzzParseActions checks that what ParseActions accepts is free of line
// breaks and that String writes it back in a form that reads back the same
// and within the length bound.
func FuzzParseActions(f *testing.F) {
	f.Add(`deliver header "X-Spam-Status: Yes" forward a@example.com`)
	f.Add(`store "unterminated`)
	f.Add(`header "X: \"q\"" a@b.example`)
	f.Fuzz(func(t *testing.T, s string) {
		as, err := ParseActions(s)
		if err != nil {
			return
		}
		for _, a := range as {
			if strings.ContainsAny(a.Name+a.Value+a.Addr, "\r\n") {
				t.Fatalf("action %+v carries a line break", a)
			}
		}
		if len(as.String()) > maxActionsLen {
			t.Fatalf("%q is written out in %d bytes", s, len(as.String()))
		}
		again, err := ParseActions(as.String())
		if err != nil || !reflect.DeepEqual(again, as) {
			t.Fatalf("round trip of %q: %q gave %+v, %v", s, as.String(), again, err)
		}
	})
}
