//go:build e2e

package installed

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

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
