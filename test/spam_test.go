//go:build e2e

package test

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

func spamConfig(s stackutil.Stack) *stackutil.Spam {
	return &stackutil.Spam{Engines: []string{"spamd"}, HighSpamActions: []string{"deliver"},
		Spamd: stackutil.Engine{Address: s.SpamdAddr, Timeout: "10s"}}
}

// TestSpamThroughStack: GTUBE gets the spam headers and the subject tag,
// a ham message X-Spam-Status: No; the classic procmail recipe
// ^X-Spam-Level: \*\*\*\*\* matches exactly the messages scored >= 5.
func TestSpamThroughStack(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "spamd")
	clean(t, s)
	spamMsg := []byte("From: spammer@example.org\nTo: bob@example.test\nSubject: cheap pills\nMessage-ID: <gtube@e2e.example>\n\n" + gtube + "\n")
	gen := stackutil.Message("e2e", 3, "ham", false)
	ham := gen.Raw
	for _, m := range [][]byte{spamMsg, ham} {
		if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, m); err != nil {
			t.Fatal(err)
		}
	}
	waitQueued(t, s.Incoming, 2)
	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30, spam: spamConfig(s)})
	if out, err := exec.Command(stackutil.Binary(t), "run", "--once", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := waitFor(s, "<gtube@e2e.example>", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := stackutil.HeaderValue(got.Data, "X-Spam-Status"); !strings.HasPrefix(v, "Yes, score=") || !strings.Contains(v, "GTUBE") {
		t.Errorf("spam X-Spam-Status = %q", v)
	}
	if v := stackutil.HeaderValue(got.Data, "X-Spam-Flag"); v != "YES" {
		t.Errorf("X-Spam-Flag = %q", v)
	}
	if v := stackutil.HeaderValue(got.Data, "Subject"); v != "{Spam?} cheap pills" {
		t.Errorf("Subject = %q", v)
	}
	if n := bytes.Count(got.Data, []byte("\nX-Spam-Status:")); n != 1 {
		t.Errorf("%d X-Spam-Status headers, want 1", n)
	}
	hamID := stackutil.HeaderValue(ham, "Message-ID")
	h, err := waitFor(s, hamID, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := stackutil.HeaderValue(h.Data, "X-Spam-Status"); !strings.HasPrefix(v, "No, score=") {
		t.Errorf("ham X-Spam-Status = %q", v)
	}
	procmail := regexp.MustCompile(`(?m)^X-Spam-Level: \*\*\*\*\*`)
	if !procmail.Match(got.Data) || procmail.Match(h.Data) {
		t.Error("the procmail recipe does not sort exactly the spam")
	}
}

// TestSpamdDownDelaysNothing: with spamd stopped mail goes through at
// once, labelled as not checked.
func TestSpamdDownDelaysNothing(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "spamd")
	clean(t, s)
	if err := s.Stop("spamd"); err != nil {
		t.Fatal(err)
	}
	defer s.Start("spamd")
	gen := stackutil.Message("e2e", 4, "spamd-down", false)
	id, raw := gen.ID, gen.Raw
	if err := stackutil.Submit(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raw); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, s.Incoming, 1)
	cfg := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30, spam: spamConfig(s)})
	if out, err := exec.Command(stackutil.Binary(t), "run", "--once", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	stackutil.Flush()
	got, err := waitFor(s, id, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := stackutil.HeaderValue(got.Data, "X-E2E-QScan-SpamCheck"); !strings.Contains(v, "not checked") {
		t.Errorf("X-E2E-QScan-SpamCheck = %q, want a not-checked label", v)
	}
}
