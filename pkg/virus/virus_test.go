package virus

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorf(t *testing.T) {
	err := Errorf("clamd", "instream %s: %w", "/run/clamd.sock", fs.ErrNotExist)
	if got, want := err.Error(), "clamd instream /run/clamd.sock: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("errors.Is(%v, ErrUnavailable) = false, want true", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false, want true (cause must stay reachable)", err)
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name          string
		res           Result
		infected, heu bool
		names         []string
	}{
		{"clean", Result{Engine: "clamd"}, false, false, nil},
		{"virus", Result{Findings: []Finding{NewFinding("clamd", "Eicar-Test-Signature")}}, true, false, []string{"Eicar-Test-Signature"}},
		{"heuristic", Result{Findings: []Finding{NewFinding("clamd", "Heuristics.Encrypted.Zip")}}, true, true, []string{"Heuristics.Encrypted.Zip"}},
		{"mixed", Result{Findings: []Finding{
			NewFinding("clamd", "Heuristics.Encrypted.Zip"),
			NewFinding("builtin", "Eicar-Test-Signature"),
			NewFinding("clamd", "Eicar-Test-Signature"),
		}}, true, false, []string{"Heuristics.Encrypted.Zip", "Eicar-Test-Signature"}},
		{"limit only", Result{LimitExceeded: true}, false, false, nil},
	}
	for _, tt := range tests {
		if got := tt.res.Infected(); got != tt.infected {
			t.Errorf("%s: Infected() = %v, want %v", tt.name, got, tt.infected)
		}
		if got := tt.res.Heuristic(); got != tt.heu {
			t.Errorf("%s: Heuristic() = %v, want %v", tt.name, got, tt.heu)
		}
		if got := tt.res.Names(); !slices.Equal(got, tt.names) {
			t.Errorf("%s: Names() = %q, want %q", tt.name, got, tt.names)
		}
	}
}

func TestBoundName(t *testing.T) {
	long := "Qscan.Long." + strings.Repeat("A", 400)
	tests := []struct{ in, want string }{
		{"Eicar-Test-Signature", "Eicar-Test-Signature"},
		{"Qscan Spaced: Name", "Qscan Spaced: Name"},
		{"  padded\t", "padded"},
		{"", NoName},
		{" \x01 ", "?"},
		{"a\x00b\nc", "a?b?c"},
		{"\xff", "\uFFFD"},
		{long, long[:MaxNameLen-len(CutMark)] + CutMark},
		{strings.Repeat("é", 300), strings.Repeat("é", (MaxNameLen-len(CutMark))/2) + CutMark},
		{strings.Repeat(" ", 2000) + "X" + strings.Repeat(" ", 2000), "X"},
		{strings.Repeat("\xff", 5000), "\uFFFD" + CutMark},
		{strings.Repeat("\xffa", 5000), strings.Repeat("\uFFFDa", (MaxNameLen-len(CutMark))/4) + CutMark},
	}
	for _, tt := range tests {
		got := BoundName(tt.in)
		if got != tt.want {
			t.Errorf("BoundName(%.40q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > MaxNameLen || !utf8.ValidString(got) {
			t.Errorf("BoundName(%.40q) = %q: %d bytes, valid UTF-8 %v", tt.in, got, len(got), utf8.ValidString(got))
		}
	}
}
