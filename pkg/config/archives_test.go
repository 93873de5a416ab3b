package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSevenZipPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "7z")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	plain := filepath.Join(dir, "not-executable")
	os.WriteFile(plain, nil, 0o644)
	for _, tt := range []struct {
		value, want string
		missing     bool
	}{
		{"", "", false},
		{bin, bin, false},
		{plain, "", true},
		{filepath.Join(dir, "absent"), "", true},
	} {
		got, missing := Archives{SevenZip: tt.value}.SevenZipPath()
		if got != tt.want || missing != tt.missing {
			t.Errorf("SevenZipPath(%q) = %q, %v; want %q, %v", tt.value, got, missing, tt.want, tt.missing)
		}
	}
	// auto: whatever is installed, never "missing".
	if got, missing := (Archives{SevenZip: "auto"}).SevenZipPath(); missing || got != "" && !strings.Contains(got, "7z") {
		t.Errorf("SevenZipPath(auto) = %q, %v", got, missing)
	}
}

func TestArchivesValidate(t *testing.T) {
	for _, tt := range []struct {
		a    Archives
		want string
	}{
		{defaultArchives(), ""},
		{Archives{SevenZip: "", SevenZipTimeout: 1}, ""},
		{Archives{SevenZip: "7z", SevenZipTimeout: 1}, "archives.sevenzip"},
		{Archives{SevenZip: "auto"}, "archives.sevenzip_timeout"},
	} {
		var got []string
		tt.a.validate(func(key, format string, a ...any) { got = append(got, key) })
		if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
			t.Errorf("validate(%+v) = %v, want %q", tt.a, got, tt.want)
		}
	}
}
