//go:build e2e

package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestCorruptQueueFiles: hostile and broken entries in the real incoming
// queue are set aside into the quarantine with a log line; a good message
// beside them is delivered; nothing is left to be retried forever.
func TestCorruptQueueFiles(t *testing.T) {
	s := stack(t)
	clean(t, s)
	bin := stackutil.Binary(t)
	// A good message and a NUL-byte message, both through the real sendmail.
	gen := stackutil.Message("e2e", 1, "corrupt-good", false)
	goodID, good := gen.ID, gen.Raw
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, good); err != nil {
		t.Fatal(err)
	}
	nul := []byte("From: x@example.org\nTo: bob@example.test\nSubject: nul\n\nbefore\x00after\n")
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, nul); err != nil {
		t.Logf("sendmail refused the NUL message: %v", err)
	}
	waitQueued(t, s.Incoming, 1)
	time.Sleep(500 * time.Millisecond)
	realQfs, _ := filepath.Glob(filepath.Join(s.Incoming, "qf*"))
	template, err := os.ReadFile(realQfs[0])
	if err != nil {
		t.Fatal(err)
	}
	q := string(template)
	old := time.Now().Add(-2 * time.Hour)
	bad := map[string]string{
		"6AM8000a000001": q[:len(q)/2],                                                                      // truncated
		"6AM8000a000002": dropLines(q, "S"),                                                                 // no sender
		"6AM8000a000003": dropLines(q, "R"),                                                                 // no recipient
		"6AM8000a000004": "",                                                                                // zero-length, old
		"6AM8000a000005": strings.Replace(q, "\n.\n", "\nH??X-Big: "+strings.Repeat("a", 1<<20)+"\n.\n", 1), // 1 MB header line
		"6AM8000a000006": strings.Replace(q, "H??", "H??X-Nul: a\x00b\nH??", 1),
	}
	for id, content := range bad {
		qf := filepath.Join(s.Incoming, "qf"+id)
		os.WriteFile(filepath.Join(s.Incoming, "df"+id), []byte("body\n"), 0o600)
		os.WriteFile(qf, []byte(content), 0o600)
		os.Chtimes(qf, old, old)
	}
	// A qf whose df is missing, old enough not to be still in writing.
	os.WriteFile(filepath.Join(s.Incoming, "qf6AM8000a000007"), template, 0o600)
	os.Chtimes(filepath.Join(s.Incoming, "qf6AM8000a000007"), old, old)

	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30})
	out, err := exec.Command(bin, "run", "--once", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "action=set-aside"); n < len(bad)+1 {
		t.Errorf("%d set-aside log lines, want at least %d:\n%s", n, len(bad)+1, out)
	}
	if m, _ := filepath.Glob(filepath.Join(s.Incoming, "*f*")); len(m) != 0 {
		t.Errorf("incoming queue still holds %v", m)
	}
	quar := filepath.Join(filepath.Dir(cfg), "quarantine")
	metas, _ := filepath.Glob(filepath.Join(quar, "*", "*", "metadata.json"))
	if len(metas) < len(bad)+1 {
		t.Errorf("%d quarantine entries, want at least %d", len(metas), len(bad)+1)
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := stackutil.WaitSink(s.SinkDir, 1, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || stackutil.HeaderValue(got[0].Data, "Message-ID") != goodID {
		t.Errorf("sink holds %d messages, want just the good one", len(got))
	}
	if !bytes.Equal(stackutil.BodyOf(got[0].Data), stackutil.BodyOf(good)) {
		t.Error("good message body changed")
	}
}

// dropLines removes the qf lines starting with prefix.
func dropLines(qf, prefix string) string {
	var out []string
	for _, l := range strings.Split(qf, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
