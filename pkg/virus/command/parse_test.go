package command

import (
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
)

// long is a name longer than virus.MaxNameLen; cut is what is kept of it.
var (
	long = "Sig.Long." + strings.Repeat("N", 500)
	cut  = long[:virus.MaxNameLen-len(virus.CutMark)] + virus.CutMark
)

func TestParseGeneric(t *testing.T) {
	tests := []struct {
		in   string
		want Line
	}{
		{"INFECTED::Eicar-Test-Signature::12345/msg-1/part-2\n", Line{Kind: KindInfected, Name: "Eicar-Test-Signature", Path: "12345/msg-1/part-2"}},
		{"INFECTED::W32/Bad.A::a::b", Line{Kind: KindInfected, Name: "W32/Bad.A", Path: "a::b"}},
		{"ERROR::cannot open::dir/f", Line{Kind: KindError, Text: "cannot open", Path: "dir/f"}},
		{"ERROR::no path given", Line{Kind: KindError, Text: "no path given"}},
		{"ScAnNeRfAiLeD", Line{Kind: KindFailed, Text: "ScAnNeRfAiLeD"}},
		{"engine: ScAnNeRfAiLeD (licence expired)", Line{Kind: KindFailed, Text: "engine: ScAnNeRfAiLeD (licence expired)"}},
		{"CLEAN::dir/f", Line{Kind: KindOther}},
		{"INFO::engine 1.2", Line{Kind: KindOther}},
		{"", Line{Kind: KindOther}},
		{"infected::lowercase::x", Line{Kind: KindOther}},
		{"INFECTED::::x", Line{Kind: KindError, Text: "unreadable INFECTED line: INFECTED::::x"}},
		{"INFECTED::Name::", Line{Kind: KindError, Text: "unreadable INFECTED line: INFECTED::Name::"}},
		{"INFECTED::Name", Line{Kind: KindError, Text: "unreadable INFECTED line: INFECTED::Name"}},
		{"INFECTED::a\x01b::x", Line{Kind: KindInfected, Name: "a?b", Path: "x"}},
		{"INFECTED:: padded ::x", Line{Kind: KindInfected, Name: "padded", Path: "x"}},
		{"INFECTED::  ::x", Line{Kind: KindError, Text: "unreadable INFECTED line: INFECTED::  ::x"}},
		// Signature databases hold names of any length: cut, not refused
		// (an error would take the scanner for down and hold all mail).
		{"INFECTED::" + long + "::x", Line{Kind: KindInfected, Name: cut, Path: "x"}},
	}
	for _, tt := range tests {
		if got := ParseGeneric(tt.in); got != tt.want {
			t.Errorf("ParseGeneric(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseClam(t *testing.T) {
	tests := []struct {
		in   string
		want Line
	}{
		{"/work/1/bad: Eicar-Test-Signature FOUND", Line{Kind: KindInfected, Path: "/work/1/bad", Name: "Eicar-Test-Signature"}},
		{"/work/odd: name: Clamav.Test.File-6.UNOFFICIAL FOUND\n", Line{Kind: KindInfected, Path: "/work/odd: name", Name: "Clamav.Test.File-6.UNOFFICIAL"}},
		{"/work/1/good: OK", Line{Kind: KindClean, Path: "/work/1/good"}},
		{"/work/1/x: Access denied. ERROR", Line{Kind: KindError, Path: "/work/1/x", Text: "Access denied."}},
		{"Could not connect to clamd ERROR", Line{Kind: KindError, Text: "Could not connect to clamd"}},
		{"/work/1/e: Empty file", Line{Kind: KindOther}},
		{"WARNING: something", Line{Kind: KindOther}},
		{"LibClamAV Warning: ***", Line{Kind: KindOther}},
		{": X FOUND", Line{Kind: KindError, Text: "unreadable FOUND line: : X FOUND"}},
		{"/p:  FOUND", Line{Kind: KindError, Text: "unreadable FOUND line: /p:  FOUND"}},
		{"FOUND", Line{Kind: KindOther}},
		{"/p: " + long + " FOUND", Line{Kind: KindInfected, Path: "/p", Name: cut}},
		{"/p: a\x01b FOUND", Line{Kind: KindInfected, Path: "/p", Name: "a?b"}},
	}
	for _, tt := range tests {
		if got := ParseClam(tt.in); got != tt.want {
			t.Errorf("ParseClam(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParse checks both parsers on any line: no panic, findings always carry
// a valid name and a path, and nothing that mentions a finding or the
// failure marker is silently ignored.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"INFECTED::Eicar::a/b", "ERROR::x::y", "ScAnNeRfAiLeD", "/a/b: Eicar FOUND", "/a: OK", "/a: Denied ERROR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range map[string]func(string) Line{"ParseGeneric": ParseGeneric, "ParseClam": ParseClam} {
			l := parse(s)
			if l.Kind == KindInfected && (l.Name != virus.BoundName(l.Name) || l.Name == virus.NoName || l.Path == "") {
				t.Fatalf("%s(%q) = %+v: bad finding", name, s, l)
			}
			if l.Kind == KindOther && name == "ParseClam" && strings.HasSuffix(strings.TrimRight(s, "\r\n"), " FOUND") {
				t.Fatalf("%s(%q) ignored a FOUND line", name, s)
			}
		}
		if l := ParseGeneric(s); strings.Contains(s, FailedMarker) && l.Kind != KindFailed {
			t.Fatalf("ParseGeneric(%q) = %+v, want failed", s, l)
		}
		if l := ParseGeneric(s); strings.HasPrefix(s, "INFECTED::") && l.Kind != KindInfected && l.Kind != KindError && l.Kind != KindFailed {
			t.Fatalf("ParseGeneric(%q) ignored an INFECTED line", s)
		}
	})
}
