package mimetree

import (
	"fmt"
	"testing"
)

func TestSplitParams(t *testing.T) {
	for _, c := range []struct {
		in                string
		segs              []string
		comment, unclosed bool
	}{
		{`text/plain; charset=utf-8`, []string{"text/plain", " charset=utf-8"}, false, false},
		{`multipart/mixed (a (nested; comment)); boundary="x;y\"z"`, []string{"multipart/mixed ", ` boundary="x;y"z"`}, true, false},
		{`a; b="open`, []string{"a", ` b="open`}, false, true},
		{`a (open; b=c`, []string{"a "}, true, true},
	} {
		segs, comment, unclosed := SplitParams(c.in)
		if fmt.Sprintf("%q", segs) != fmt.Sprintf("%q", c.segs) || comment != c.comment || unclosed != c.unclosed {
			t.Errorf("SplitParams(%q) = %q, %v, %v; want %q, %v, %v", c.in, segs, comment, unclosed, c.segs, c.comment, c.unclosed)
		}
	}
	for _, c := range []struct{ in, name, value string }{
		{` Boundary = "a b" `, "boundary", "a b"},
		{`name=x`, "name", "x"},
		{`name=""`, "name", ""},
	} {
		if name, value, ok := CutParam(c.in); !ok || name != c.name || value != c.value {
			t.Errorf("CutParam(%q) = %q, %q, %v; want %q, %q", c.in, name, value, ok, c.name, c.value)
		}
	}
	if _, _, ok := CutParam("noequals"); ok {
		t.Error(`CutParam("noequals") ok, want not`)
	}
}
