//go:build e2e

package stackutil

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestStackRoundTrip drives the real stack: SMTP into the incoming sendmail,
// a hand move of qf/df to the outgoing queue (what qscan does), a queue run,
// and the message at the sink with its body as sendmail stored it.
func TestStackRoundTrip(t *testing.T) {
	s := Require(t, "sink", "sendmail")
	if err := ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	before, err := WaitQueue(s.Incoming, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	token := "stackutil-" + time.Now().Format("150405.000000")
	msg := []byte("From: alice@sender.example\nTo: bob@example.test\nSubject: " + token +
		"\n\n.leading dot\n" + token + "\n")
	if err := Submit(s.SMTPIn, "alice@sender.example", []string{"bob@example.test"}, msg); err != nil {
		t.Fatal(err)
	}
	ids, err := WaitQueue(s.Incoming, len(before)+1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, x := range ids {
		if !slices.Contains(before, x) {
			id = x
		}
	}
	df, err := os.ReadFile(filepath.Join(s.Incoming, "df"+id))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"df", "qf"} {
		if err := os.Rename(filepath.Join(s.Incoming, f+id), filepath.Join(s.Outgoing, f+id)); err != nil {
			t.Fatal(err)
		}
	}
	// The incoming sendmail writes 0660 (QueueFileMode, for qscan's group);
	// qscan writes its outgoing qf 0600, as the outgoing sendmail wants:
	// its queue run sets a group-writable qf aside as Qf<ID>.
	if err := os.Chmod(filepath.Join(s.Outgoing, "qf"+id), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Flush(); err != nil {
		t.Fatal(err)
	}
	msgs, err := WaitSink(s.SinkDir, 1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := msgs[0]
	if _, body, _ := bytes.Cut(got.Data, []byte("\n\n")); !bytes.Equal(body, df) {
		t.Errorf("body at sink = %q, want df %q", body, df)
	}
	if got.MailFrom != "alice@sender.example" || !slices.Equal(got.RcptTo, []string{"bob@example.test"}) {
		t.Errorf("envelope at sink = %q -> %q", got.MailFrom, got.RcptTo)
	}
	if !bytes.Contains(got.Data, []byte("Subject: "+token)) {
		t.Errorf("message at sink lacks Subject %s:\n%s", token, got.Data)
	}
}
