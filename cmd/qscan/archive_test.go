package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveMail: with archive_mail naming a directory and an address,
// the message as it arrived is written under the directory and the
// address is a recipient of the delivered copy.
func TestArchiveMail(t *testing.T) {
	arch := t.TempDir()
	root, cfg := demo(t, "")
	// demo has a [quarantine] section already: the key goes into it.
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), "[quarantine]\n", "[quarantine]\narchive_mail = \""+arch+" archive@example.org\"\n", 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml")
	if code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	id := strings.TrimSpace(out)
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once: %d %s", code, out)
	}
	copies, _ := filepath.Glob(filepath.Join(arch, "*", id+".eml"))
	if len(copies) != 1 {
		t.Fatalf("archive holds %v, want one copy of %s", copies, id)
	}
	orig, _ := os.ReadFile("../../testdata/eml/plain.eml")
	got, _ := os.ReadFile(copies[0])
	if !strings.Contains(string(got), strings.SplitN(string(orig), "\n\n", 2)[1]) {
		t.Errorf("archived copy lacks the original body:\n%s", got)
	}
	qf, err := os.ReadFile(filepath.Join(root, "out", "qf"+id))
	if err != nil || !strings.Contains(string(qf), "archive@example.org") || !strings.Contains(string(qf), "b@example.test") {
		t.Errorf("outgoing qf (err %v) lacks a recipient:\n%s", err, qf)
	}
}
