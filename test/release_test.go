//go:build e2e

package test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestBlockedMemberAndRelease: invoice.pdf.exe inside a zip inside a zip
// arrives cleaned (the other attachment byte for byte); `qscan quarantine
// release` then delivers the original.
func TestBlockedMemberAndRelease(t *testing.T) {
	s := stack(t)
	clean(t, s)
	inner := stackutil.ZipOf(map[string][]byte{"invoice.pdf.exe": []byte("MZ this is not a pdf")})
	outer := stackutil.ZipOf(map[string][]byte{"inner.zip": inner})
	notes := "keep these notes\nbyte for byte\n"
	raw := []byte("From: sender@example.org\nTo: bob@example.test\nSubject: your invoice\nMessage-ID: <invoice@e2e.example>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B1\"\n\n--B1\nContent-Type: text/plain\n\nPlease pay.\n" +
		"--B1\nContent-Type: application/zip; name=\"outer.zip\"\nContent-Disposition: attachment; filename=\"outer.zip\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + stackutil.Base64Lines(outer) +
		"--B1\nContent-Type: text/plain; name=\"notes.txt\"\nContent-Disposition: attachment; filename=\"notes.txt\"\n\n" + notes + "--B1--\n")
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, s.Incoming, 1)
	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30})
	bin := stackutil.Binary(t)
	if out, err := exec.Command(bin, "run", "--once", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	stackutil.Flush()
	got, err := waitFor(s, "<invoice@e2e.example>", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got.Data, []byte(stackutil.Base64Lines(outer)[:40])) {
		t.Error("the blocked zip was delivered")
	}
	if !bytes.Contains(got.Data, []byte("\n\n"+notes+"--B1--")) || !bytes.Contains(got.Data, []byte("invoice.pdf.exe")) {
		t.Errorf("cleaned message lacks the notes (byte for byte) or the warning:\n%s", got.Data)
	}
	if v := stackutil.HeaderValue(got.Data, "Subject"); v != "{Filename?} your invoice" {
		t.Errorf("Subject = %q", v)
	}
	out, err := exec.Command(bin, "quarantine", "list", "--json", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("quarantine list: %v\n%s", err, out)
	}
	id := quarantineID(t, out)
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "quarantine", "release", "-c", cfg, id).CombinedOutput(); err != nil {
		t.Fatalf("quarantine release %s: %v\n%s", id, err, out)
	}
	stackutil.Flush()
	rel, err := waitFor(s, "<invoice@e2e.example>", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rel.Data, []byte(stackutil.Base64Lines(outer)[:40])) {
		t.Error("the released message is not the original")
	}
	if len(rel.RcptTo) != 1 || rel.RcptTo[0] != "bob@example.test" {
		t.Errorf("released to %v", rel.RcptTo)
	}
}

// quarantineID finds the entry id in `qscan quarantine list --json`
// output (an array or one object per line).
func quarantineID(t *testing.T, out []byte) string {
	t.Helper()
	var entries []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &entries); err != nil {
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var e struct {
				ID string `json:"id"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.ID != "" {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) != 1 {
		t.Fatalf("quarantine list: %d entries, want 1:\n%s", len(entries), out)
	}
	return filepath.ToSlash(entries[0].ID)
}
