package exim

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// TestSetRecipients: the new recipients are written as Exim reads them
// (the file parses back with them and nothing else), the rest unchanged.
func TestSetRecipients(t *testing.T) {
	h, err := NewH("a@example.org", Rcpts("b@example.test", "c@example.test"), []byte("Subject: x\n"), NewOpts{Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	h.SetID("1aBcDe-000001-Ab")
	before := h.Bytes()
	rs := Rcpts("new@example.test")
	rs = append(rs, Recipient{Address: "dsn@example.test", ORcpt: "rfc822;dsn@example.test", DSNFlags: 0x1, Parent: -1})
	if err := h.SetRecipients(rs); err != nil {
		t.Fatal(err)
	}
	back, err := ParseH(bytes.NewReader(h.Bytes()), Limits{})
	if err != nil {
		t.Fatalf("ParseH after SetRecipients: %v\n%s", err, h.Bytes())
	}
	var got []string
	for _, r := range back.Recipients() {
		got = append(got, r.Address)
	}
	if !slices.Equal(got, []string{"new@example.test", "dsn@example.test"}) {
		t.Errorf("recipients = %v", got)
	}
	if back.Recipients()[1].ORcpt != "rfc822;dsn@example.test" {
		t.Errorf("ORCPT lost: %+v", back.Recipients()[1])
	}
	if back.Sender() != "a@example.org" || !bytes.Equal(back.HeaderBlock(), h.HeaderBlock()) {
		t.Error("sender or headers changed")
	}
	if bytes.Equal(before, h.Bytes()) {
		t.Error("file unchanged")
	}
	if err := h.SetRecipients(Rcpts("bad\n@x")); err == nil {
		t.Error("an address with a newline accepted")
	}
}
