package ruleset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseSetting(t *testing.T) {
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "spam.checks.rules")
	if err := os.WriteFile(rulesPath, []byte("From: *@partner.example no\nFromOrTo: default yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noExt := filepath.Join(dir, "notify")
	if err := os.WriteFile(noExt, []byte("To: boss@example.com no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(tmpl, []byte("To: a@b c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in        string
		wantRules string // ruleset file name, "" for a plain value
		wantPlain string
	}{
		{"yes", "", "yes"},
		{"  store notify  ", "", "store notify"},
		{"spam.checks.rules", rulesPath, ""},
		{rulesPath, rulesPath, ""},
		{noExt, noExt, ""}, // absolute path of an existing file
		{tmpl, "", tmpl},   // report template, not a ruleset
		{dir, "", dir},     // a directory
		{"/no/such/dir", "", "/no/such/dir"},
		{"relative/file", "", "relative/file"},
		{"%rules-dir%/x y", "", "%rules-dir%/x y"},
	}
	for _, tt := range tests {
		s, err := ParseSetting(tt.in, dir)
		if err != nil {
			t.Errorf("ParseSetting(%q) error %v", tt.in, err)
			continue
		}
		gotRules := ""
		if s.Rules != nil {
			gotRules = s.Rules.Name()
		}
		if gotRules != tt.wantRules || s.Plain != tt.wantPlain {
			t.Errorf("ParseSetting(%q) = {Plain %q, Rules %q}, want {%q, %q}", tt.in, s.Plain, gotRules, tt.wantPlain, tt.wantRules)
		}
	}

	missing := filepath.Join(dir, "missing.rules")
	if _, err := ParseSetting("missing.rules", dir); !errors.Is(err, os.ErrNotExist) ||
		err.Error() != "ruleset read "+missing+": no such file or directory" {
		t.Errorf("ParseSetting(missing.rules) = %v, want not-exist error naming %s once", err, missing)
	}
	bad := filepath.Join(dir, "bad.rules")
	if err := os.WriteFile(bad, []byte("Frmo: a b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseSetting("bad.rules", dir)
	if !errors.Is(err, ErrUnknownDirection) || err.Error() != bad+`:1: unknown direction "Frmo:" (`+wantDirections+")" {
		t.Errorf("ParseSetting(bad.rules) = %v", err)
	}
	if _, err := (Options{MaxFileSize: 10}).ParseSetting(rulesPath, ""); !errors.Is(err, ErrLimit) {
		t.Errorf("ParseSetting(too big) = %v, want ErrLimit", err)
	}
}

func TestSettingResolve(t *testing.T) {
	plain := Setting{Plain: "yes"}
	rules := Setting{Plain: "hard", Rules: mustParse(t, "To: boss@example.com no\nFrom: 10. lan\n")}
	withDef := Setting{Plain: "hard", Rules: mustParse(t, "To: boss@example.com no\nFromOrTo: default yes\n")}
	tests := []struct {
		name   string
		s      Setting
		m      Msg
		want   string
		at     string
		all    []string
		anyYes bool
	}{
		{"plain", plain, Msg{To: []string{"boss@example.com"}}, "yes", "", []string{"yes"}, true},
		{"rule", rules, Msg{To: []string{"boss@example.com"}}, "no", "t.rules:1", []string{"no"}, false},
		{"fallback", rules, Msg{To: []string{"x@example.com"}}, "hard", "", []string{"hard"}, false},
		{"two rules", rules, Msg{To: []string{"boss@example.com"}, ClientIP: ip("10.0.0.1")}, "no", "t.rules:1", []string{"no", "lan"}, false},
		{"default", withDef, Msg{To: []string{"x@example.com"}}, "yes", "t.rules:2", []string{"yes"}, true},
		{"per recipient", withDef, Msg{To: []string{"boss@example.com", "x@example.com"}}, "no", "t.rules:1", []string{"no"}, true},
	}
	for _, tt := range tests {
		v, at := tt.s.Explain(tt.m)
		if v != tt.want || at != tt.at || tt.s.Resolve(tt.m) != tt.want {
			t.Errorf("%s: Explain = %q, %q; want %q, %q", tt.name, v, at, tt.want, tt.at)
		}
		if got := tt.s.ResolveAll(tt.m); !slices.Equal(got, tt.all) {
			t.Errorf("%s: ResolveAll = %q, want %q", tt.name, got, tt.all)
		}
		if got := tt.s.AnyRecipient(tt.m, IsYes); got != tt.anyYes {
			t.Errorf("%s: AnyRecipient(IsYes) = %v, want %v", tt.name, got, tt.anyYes)
		}
	}
	// A recipient that no rule covers falls back to Plain for AnyRecipient.
	s := Setting{Plain: "yes", Rules: mustParse(t, "To: boss@example.com no\n")}
	if !s.AnyRecipient(Msg{To: []string{"boss@example.com", "x@y"}}, IsYes) {
		t.Error("AnyRecipient with an uncovered recipient and Plain yes = false, want true")
	}
	if got := s.String(); got != "ruleset t.rules" {
		t.Errorf("String() = %q", got)
	}
}
