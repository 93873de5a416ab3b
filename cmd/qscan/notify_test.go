package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReportsLogged: every mail qscan sends itself is logged, one line
// each, with its new queue ID, its kind, its recipients and the message it
// is about. Here an infected message from a sender who gets virus notices
// gives a postmaster report and a sender notice.
func TestReportsLogged(t *testing.T) {
	root, cfg := demo(t, "[notify]\npostmaster = \"pm@example.net\"\nsender_viruses = true\n")
	eml := filepath.Join(t.TempDir(), "eicar.eml")
	os.WriteFile(eml, []byte("From: a@example.org\nTo: b@example.test\nSubject: eicar\n\n"+
		`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n"), 0o600)
	out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", eml)
	if code != 0 {
		t.Fatalf("enqueue = %d %q", code, out)
	}
	id := strings.TrimSpace(out)
	log, code := qscan(t, "run", "--once", "-c", cfg)
	if code != 0 {
		t.Fatalf("run --once = %d\n%s", code, log)
	}
	qfs, _ := filepath.Glob(filepath.Join(root, "out", "qf*"))
	want := map[string]string{"pm@example.net": "postmaster", "a@example.org": "sender"}
	found := map[string]bool{}
	for _, qf := range qfs {
		newID := strings.TrimPrefix(filepath.Base(qf), "qf")
		if newID == id {
			continue
		}
		b, _ := os.ReadFile(qf)
		rcpt := regexp.MustCompile(`(?m)^R[A-Z]*:<?([^>\n]+)>?$`).FindStringSubmatch(string(b))
		if rcpt == nil {
			t.Errorf("%s: no recipient line", qf)
			continue
		}
		kind := want[rcpt[1]]
		line := regexp.MustCompile(`(?m)^.* ` + newID + ` .*$`).FindString(log)
		for _, w := range []string{"to=<" + rcpt[1] + ">", "kind=" + kind, "about=" + id, "verdict=report"} {
			if line == "" || kind == "" || !strings.Contains(line, w) {
				t.Errorf("report %s to %s: log line %q, want %s", newID, rcpt[1], line, w)
				break
			}
		}
		found[rcpt[1]] = true
	}
	if len(found) != len(want) {
		t.Errorf("reports queued to %v, want %v", found, want)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
