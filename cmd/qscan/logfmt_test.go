package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseLogged: a release from the quarantine writes the outcome
// line every message gets (action=released), keyed by the new queue ID.
func TestReleaseLogged(t *testing.T) {
	root, cfg := demo(t, "[spam]\nengines = []\n")
	eml := filepath.Join(t.TempDir(), "eicar.eml")
	os.WriteFile(eml, []byte("From: a@example.org\nTo: b@example.test\nSubject: eicar\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/mixed; boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nhello\n--BB\n"+
		"Content-Type: application/octet-stream; name=\"eicar.com\"\n\n"+
		`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n--BB--\n"), 0o600)
	if out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", eml); code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	out, code := qscan(t, "run", "--once", "-c", cfg)
	if code != 0 || !strings.Contains(out, " action=cleaned quarantined=true ") {
		t.Fatalf("run --once = %d, want a cleaned message logged as quarantined:\n%s", code, out)
	}
	metas, _ := filepath.Glob(filepath.Join(root, "quarantine", "*", "*", "metadata.json"))
	if len(metas) != 1 {
		t.Fatalf("quarantine entries: %v", metas)
	}
	entry := filepath.Base(filepath.Dir(filepath.Dir(metas[0]))) + "/" + filepath.Base(filepath.Dir(metas[0]))
	stdout, stderr, code := qscanSplit(t, "quarantine", "release", "-c", cfg, entry)
	newID := strings.TrimSpace(stdout)
	if code != 0 || newID == "" {
		t.Fatalf("release = %d %q %q", code, stdout, stderr)
	}
	line := regexp.MustCompile(` info ` + newID + ` from=<a@example.org> to=<b@example.test> nrcpts=1 size=\d+ verdict=- virus=- spam=- ` +
		`action=released quarantined=false reason="released from the quarantine entry ` + regexp.QuoteMeta(entry) + ` by [^"]+" attempt=1 ms=0\n`)
	if !line.MatchString(stderr) {
		t.Errorf("release log line missing or of another shape:\n%s", stderr)
	}
}
