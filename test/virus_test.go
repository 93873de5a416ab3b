//go:build e2e

package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// nestedEICAR is a message carrying a message/rfc822 whose attachment is
// a zip holding eicar.com, beside a text part and a harmless attachment.
func nestedEICAR(t *testing.T, msgID string) []byte {
	t.Helper()
	inner := "From: x@example.org\nTo: y@example.test\nSubject: inner\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"in\"\n\n--in\nContent-Type: text/plain\n\ninner text\n--in\n" +
		"Content-Type: application/zip; name=\"files.zip\"\nContent-Disposition: attachment; filename=\"files.zip\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + stackutil.Base64Lines(stackutil.ZipOf(map[string][]byte{"eicar.com": []byte(stackutil.EICAR)})) + "--in--\n"
	return []byte(fmt.Sprintf("From: sender@example.org\nTo: bob@example.test\nSubject: forwarded\nMessage-ID: %s\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"out\"\n\n--out\nContent-Type: text/plain\n\nsee the forwarded message\n"+
		"--out\nContent-Type: message/rfc822\n\n%s\n--out\nContent-Type: text/plain; name=\"notes.txt\"\n"+
		"Content-Disposition: attachment; filename=\"notes.txt\"\n\nkeep me\n--out--\n", msgID, inner))
}

// TestVirusThroughStack: through sendmail-in, qscan with the real clamd,
// and the outgoing sendmail, the infected message arrives cleaned, the
// original is in the quarantine, and the postmaster gets the report.
func TestVirusThroughStack(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "clamd")
	clean(t, s)
	raw := nestedEICAR(t, "<nested-eicar@e2e.example>")
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, s.Incoming, 1)
	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30, clamd: true,
		extra: "[notify]\npostmaster = \"postmaster@example.test\"\n"})
	out, err := exec.Command(stackutil.Binary(t), "run", "--once", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := waitFor(s, "<nested-eicar@e2e.example>", 60*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if bytes.Contains(got.Data, []byte("EICAR-STANDARD")) || bytes.Contains(got.Data, []byte("UEsDB")) {
		t.Error("the delivered message still carries the infected zip")
	}
	for _, want := range []string{"see the forwarded message", "keep me", "Eicar-Test-Signature"} {
		if !bytes.Contains(got.Data, []byte(want)) {
			t.Errorf("delivered message lacks %q", want)
		}
	}
	if v := stackutil.HeaderValue(got.Data, "X-E2E-QScan"); v != "Found to be infected" {
		t.Errorf("X-E2E-QScan = %q", v)
	}
	metas, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg), "quarantine", "*", "*", "metadata.json"))
	if len(metas) != 1 {
		t.Fatalf("%d quarantine entries, want 1", len(metas))
	}
	orig, err := os.ReadFile(filepath.Join(filepath.Dir(metas[0]), "message.eml"))
	if err != nil || !bytes.Contains(orig, []byte("UEsDB")) {
		t.Errorf("quarantine lacks the original message: %v", err)
	}
	report := findSink(t, s, func(m stackutil.SinkMsg) bool {
		return stackutil.HeaderValue(m.Data, "Subject") == "Warning: E-mail viruses detected"
	})
	if report == nil {
		t.Fatal("no postmaster report at the sink")
	}
	if report.MailFrom != "" || len(report.RcptTo) != 1 || report.RcptTo[0] != "postmaster@example.test" {
		t.Errorf("report envelope: from <%s> to %v", report.MailFrom, report.RcptTo)
	}
	for _, want := range []string{"Eicar-Test-Signature", "eicar.com", "sender@example.org"} {
		if !bytes.Contains(report.Data, []byte(want)) {
			t.Errorf("postmaster report lacks %q:\n%s", want, report.Data)
		}
	}
}

// TestClamdDownHolds: with clamd stopped nothing is delivered; once it is
// back the held messages go out without a restart of qscan, found by the
// background probe well before their retry time (10 minutes here).
func TestClamdDownHolds(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "clamd")
	clean(t, s)
	if err := s.Stop("clamd"); err != nil {
		t.Fatal(err)
	}
	defer s.Start("clamd")
	var ids []string
	for i := 0; i < 5; i++ {
		gen := stackutil.Message("e2e", i, "clamd-down", false)
		id, raw := gen.ID, gen.Raw
		ids = append(ids, id)
		if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
			t.Fatal(err)
		}
	}
	waitQueued(t, s.Incoming, 5)
	var logBuf bytes.Buffer
	d := stackutil.StartDaemon(t, stackutil.Binary(t), writeConfig(t, s, cfgOpts{maxMessages: 30, clamd: true, retry: "10m"}), stackutil.DaemonOpts{Log: &logBuf, Group: true})
	defer d.Shutdown(t)
	time.Sleep(3 * time.Second)
	if m, _ := filepath.Glob(filepath.Join(s.Outgoing, "qf*")); len(m) != 0 {
		t.Fatalf("%d messages went out while clamd was down", len(m))
	}
	if n := strings.Count(logBuf.String(), "virus engine clamd is down"); n != 1 {
		t.Errorf("engine-down log lines = %d, want exactly 1 (once per state change):\n%s", n, logBuf.String())
	}
	if err := s.Start("clamd"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := waitFor(s, id, 90*time.Second); err != nil {
			t.Fatalf("%v (held for 10 minutes: not retried when clamd came back?)\n%s", err, logBuf.String())
		}
	}
	for _, want := range []string{"virus engine clamd is up", "held messages retried now"} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("no log line %q", want)
		}
	}
}

// findSink returns the first sink message for which ok holds.
func findSink(t *testing.T, s stackutil.Stack, ok func(stackutil.SinkMsg) bool) *stackutil.SinkMsg {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		msgs, _ := stackutil.ReadSink(s.SinkDir)
		for i := range msgs {
			if ok(msgs[i]) {
				return &msgs[i]
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}
