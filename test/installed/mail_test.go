//go:build e2e

package installed

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// gtube is the GTUBE test string, built in two halves so that this file
// is not taken for spam itself (stackutil.EICAR is the virus).
const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-" + "EMAIL*C.34X"

// mail is a test message with a Message-ID unique to the run.
type mail struct {
	id  string // Message-ID, angle brackets included
	raw []byte
}

func (tr *tree) msgID(kind string) string {
	return fmt.Sprintf("<%s.%s@installed.example>", kind, filepath.Base(tr.root))
}

func (tr *tree) cleanMail(kind string) mail {
	id := tr.msgID(kind)
	return mail{id, []byte("From: Sender <sender@example.org>\nTo: bob@example.test\nSubject: installed " + kind +
		"\nMessage-ID: " + id + "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" +
		"A plain message through the installed qscan.\n.a line starting with a dot\n")}
}

func (tr *tree) virusMail() mail {
	id := tr.msgID("virus")
	return mail{id, []byte("From: sender@example.org\nTo: bob@example.test\nSubject: invoice\nMessage-ID: " + id +
		"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n" +
		"the text stays\n--b1\nContent-Type: application/octet-stream; name=\"eicar.com\"\n" +
		"Content-Disposition: attachment; filename=\"eicar.com\"\n\n" + stackutil.EICAR + "\n--b1--\n")}
}

func (tr *tree) spamMail() mail {
	id := tr.msgID("spam")
	return mail{id, []byte("From: spammer@example.org\nTo: bob@example.test\nSubject: cheap pills\nMessage-ID: " + id +
		"\n\n" + gtube + "\n")}
}

// submit sends m over SMTP to the stack's incoming sendmail.
func (tr *tree) submit(t *testing.T, m mail) {
	t.Helper()
	if err := stackutil.Submit(tr.stack.SMTPIn, "sender@example.org", []string{"bob@example.test"}, m.raw); err != nil {
		t.Fatal(err)
	}
}

// queued reports whether a qf in dir holds text (sendmail keeps the
// headers, and so the Message-ID, in the qf).
func queued(dir, text string) (bool, error) {
	qfs, err := filepath.Glob(filepath.Join(dir, "qf*"))
	if err != nil {
		return false, err
	}
	for _, qf := range qfs {
		// A qf renamed away meanwhile is simply not there.
		if b, err := os.ReadFile(qf); err == nil && bytes.Contains(b, []byte(text)) {
			return true, nil
		}
	}
	return false, nil
}

// waitOutgoing waits until m is in the outgoing queue.
func (tr *tree) waitOutgoing(m mail, timeout time.Duration) error {
	err := stackutil.Poll(timeout, func() (bool, error) { return queued(tr.stack.Outgoing, m.id) })
	if err != nil {
		return fmt.Errorf("%s not in the outgoing queue after %v: %w%s", m.id, timeout, err, tr.queueHint())
	}
	return nil
}

// queueHint explains a message left in the incoming queue by a stack
// whose sendmail was started before it queued files 0660, as the
// installed sendmail-in does: qscan, as user qscan, cannot lock them.
func (tr *tree) queueHint() string {
	fs, _ := filepath.Glob(filepath.Join(tr.stack.Incoming, "[qd]f*"))
	for _, f := range fs {
		if o, err := ownerOf(f); err == nil && o.mode&0o020 == 0 {
			return fmt.Sprintf(" (%s is mode %#o: restart the stack's sendmail, which queues files 0660 since scripts/teststack passes -OQueueFileMode=0660)", f, o.mode)
		}
	}
	return ""
}

// waitIncomingEmpty waits until qscan has taken every message from the
// incoming queue.
func (tr *tree) waitIncomingEmpty(timeout time.Duration) error {
	err := stackutil.Poll(timeout, func() (bool, error) {
		qfs, err := filepath.Glob(filepath.Join(tr.stack.Incoming, "qf*"))
		return len(qfs) == 0, err
	})
	if err != nil {
		return fmt.Errorf("incoming queue not emptied after %v: %w%s", timeout, err, tr.queueHint())
	}
	return nil
}

// delivered returns the sink's copy of m, or nil.
func (tr *tree) delivered(t *testing.T, m mail) *stackutil.SinkMsg {
	t.Helper()
	msgs, err := stackutil.ReadSink(tr.stack.SinkDir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if stackutil.HeaderValue(msgs[i].Data, "Message-ID") == m.id {
			return &msgs[i]
		}
	}
	return nil
}

// quarantined returns the quarantined copies (message.eml) holding m's
// Message-ID.
func (tr *tree) quarantined(m mail) ([]string, error) {
	var found []string
	err := filepath.WalkDir(tr.cfg.Quarantine.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "message.eml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(m.id)) {
			found = append(found, p)
		}
		return err
	})
	return found, err
}

// header returns the value of qscan's own header X-<org_name>-QScan<suffix>.
func (tr *tree) header(m *stackutil.SinkMsg, suffix string) string {
	return stackutil.HeaderValue(m.Data, "X-"+tr.cfg.Headers.OrgName+"-QScan"+suffix)
}

// checkClean: delivered with its body unchanged and marked clean.
func (tr *tree) checkClean(t *testing.T, m mail) {
	t.Helper()
	got := tr.delivered(t, m)
	if got == nil {
		t.Errorf("clean message %s not delivered to the sink", m.id)
		return
	}
	if !bytes.Equal(stackutil.BodyOf(got.Data), stackutil.BodyOf(m.raw)) {
		t.Errorf("clean message body changed:\n%s", stackutil.BodyOf(got.Data))
	}
	if v := tr.header(got, ""); v != "Found to be clean" {
		t.Errorf("clean message: X-%s-QScan = %q, want \"Found to be clean\"", tr.cfg.Headers.OrgName, v)
	}
}

// checkVirus: delivered cleaned (the shipped deliver_cleaned = true),
// without the EICAR attachment, and the original kept in the quarantine.
func (tr *tree) checkVirus(t *testing.T, m mail) {
	t.Helper()
	got := tr.delivered(t, m)
	if got == nil {
		t.Errorf("infected message %s not delivered cleaned to the sink", m.id)
	} else {
		if bytes.Contains(got.Data, []byte("EICAR-STAN")) {
			t.Error("the delivered message still carries EICAR")
		}
		if !bytes.Contains(got.Data, []byte("the text stays")) {
			t.Error("the delivered message lost its text part")
		}
		if v := stackutil.HeaderValue(got.Data, "Subject"); !strings.HasPrefix(v, "{Virus?} ") {
			t.Errorf("infected message Subject = %q, want the {Virus?} tag", v)
		}
	}
	if q, err := tr.quarantined(m); err != nil || len(q) != 1 {
		t.Errorf("quarantined copies of the infected message: %v, %v; want 1", q, err)
	}
}

// checkSpam: GTUBE scores far above high_score, and the shipped
// high_spam_actions = ["store"] keeps it in the quarantine, undelivered.
func (tr *tree) checkSpam(t *testing.T, m mail) {
	t.Helper()
	if got := tr.delivered(t, m); got != nil {
		t.Errorf("GTUBE delivered (X-Spam-Status: %s); the shipped high_spam_actions store it",
			stackutil.HeaderValue(got.Data, "X-Spam-Status"))
	}
	if q, err := tr.quarantined(m); err != nil || len(q) != 1 {
		t.Errorf("quarantined copies of the GTUBE message: %v, %v; want 1", q, err)
	}
}

// checkReport: the postmaster got the virus report about m.
func (tr *tree) checkReport(t *testing.T, m mail) {
	t.Helper()
	msgs, err := stackutil.ReadSink(tr.stack.SinkDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range msgs {
		if slices.Equal(r.RcptTo, []string{postmaster}) && bytes.Contains(r.Data, []byte("Eicar-Test-Signature")) {
			return
		}
	}
	t.Errorf("no virus report to %s at the sink (%d messages there)", postmaster, len(msgs))
}
