//go:build e2e

package installed

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSetKey(t *testing.T) {
	in := "[queue]\nincoming = \"/a\"\nincoming_x = 1\n# incoming = \"/c\"\n[spam.spamd]\naddress = \"x\"\n"
	tests := []struct {
		section, key, value string
		want                string // "" for an error
	}{
		{"queue", "incoming", `"/b"`, "[queue]\nincoming = \"/b\"\nincoming_x = 1\n# incoming = \"/c\"\n[spam.spamd]\naddress = \"x\"\n"},
		{"spam.spamd", "address", `"y"`, "[queue]\nincoming = \"/a\"\nincoming_x = 1\n# incoming = \"/c\"\n[spam.spamd]\naddress = \"y\"\n"},
		{"spam", "address", `"y"`, ""},
		{"queue", "outgoing", `"/o"`, ""},
	}
	for _, tt := range tests {
		got, err := setKey([]byte(in), tt.section, tt.key, tt.value)
		if tt.want == "" {
			if err == nil {
				t.Errorf("setKey(%s.%s) = %q, want an error", tt.section, tt.key, got)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("setKey(%s.%s) = %q, %v, want %q", tt.section, tt.key, got, err, tt.want)
		}
	}
}

func TestFindCronJob(t *testing.T) {
	p := filepath.Join(t.TempDir(), "qscan")
	text := "# comment\nSHELL=/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n\n" +
		"3,23,43 * * * *\troot\t[ -x /q ] && /q check --restart -c /c\n" +
		"17 4 * * *\tqscan\t/q quarantine purge --older-than 30d\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := findCronJob(p, "check --restart")
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"SHELL=/bin/sh", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if j.user != "root" || j.command != "[ -x /q ] && /q check --restart -c /c" || !slices.Equal(j.env, wantEnv) {
		t.Errorf("findCronJob = %+v", j)
	}
	if _, err := findCronJob(p, "freshclam"); err == nil {
		t.Error("findCronJob found a job that is not there")
	}
}
