package postfix

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// TestSetRecipients: the new recipients replace the old ones (extracted
// ones too), with their DSN data; the file parses back with them, the
// size record counts them, the message is unchanged.
func TestSetRecipients(t *testing.T) {
	f, err := NewFile([]byte("Subject: x\n"), []byte("body\n"), NewOpts{Time: time.Unix(1700000000, 0), Sender: "a@example.org",
		Recipients: []NewRcpt{{Addr: "b@example.test"}, {Addr: "c@example.test", Orig: "c@old.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetRecipients([]NewRcpt{{Addr: "new@example.test", DSNOrcpt: "rfc822;new@example.test", Notify: NotifyFailure}}); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(bytes.NewReader(f.Bytes()), Limits{})
	if err != nil {
		t.Fatalf("Parse after SetRecipients: %v", err)
	}
	var got []string
	for _, r := range back.Envelope().Recipients {
		got = append(got, r.Addr)
	}
	if !slices.Equal(got, []string{"new@example.test"}) {
		t.Errorf("recipients = %v", got)
	}
	r := back.Envelope().Recipients[0]
	if r.DSNOrcpt != "rfc822;new@example.test" || r.Notify != NotifyFailure || r.Orig != "" {
		t.Errorf("recipient = %+v", r)
	}
	if n := back.SizeFields()[2]; n != 1 {
		t.Errorf("size record recipients = %d, want 1", n)
	}
	if string(back.Body()) != "body\n" || back.Envelope().Sender != "a@example.org" {
		t.Errorf("message or sender changed: %q %q", back.Body(), back.Envelope().Sender)
	}
	if err := f.SetRecipients([]NewRcpt{{Addr: "x\n@y"}}); err == nil {
		t.Error("an address with a line end accepted")
	}
}
