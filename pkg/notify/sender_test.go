package notify

import (
	"strings"
	"testing"
)

func TestShouldNotifySender(t *testing.T) {
	plain := "From: a@example.net\nSubject: hi\n"
	tests := []struct {
		sender, header string
		want           bool
	}{
		{"alice@example.net", plain, true},
		{"<alice@example.net>", plain, true},
		{"", plain, false},
		{"<>", plain, false},
		{"MAILER-DAEMON@example.net", plain, false},
		{"postmaster@example.net", plain, false},
		{"Postmaster", plain, false},
		{"noreply@example.net", plain, false},
		{"no-reply-billing@example.net", plain, false},
		{"owner-list@example.net", plain, false},
		{"list-request@example.net", plain, false},
		{"bounces+123-alice=example.org@example.net", plain, false},
		{"alice@example.net", plain + "Precedence: bulk\n", false},
		{"alice@example.net", plain + "precedence: List\n", false},
		{"alice@example.net", plain + "Precedence: junk (spam)\n", false},
		{"alice@example.net", plain + "Precedence: first-class\n", true},
		{"alice@example.net", plain + "Auto-Submitted: auto-replied\n", false},
		{"alice@example.net", plain + "Auto-Submitted: no\n", true},
		{"alice@example.net", plain + "Auto-Submitted: No (manual)\n", true},
		{"alice@example.net", plain + "List-Id: <l.example.net>\n", false},
		{"alice@example.net", "Subject: x\r\nList-ID:\r\n <l.example.net>\r\n", false},
		{"alice@example.net", "Subject: x\n\nList-Id: in the body\n", true},
		{"alice@example.net\nBcc: x", plain, false},
		{"alice smith@example.net", plain, false},
		{strings.Repeat("a", 400) + "@example.net", plain, false},
	}
	for _, tt := range tests {
		if got := ShouldNotifySender(tt.sender, []byte(tt.header)); got != tt.want {
			t.Errorf("ShouldNotifySender(%q, %q) = %v, want %v", tt.sender, tt.header, got, tt.want)
		}
	}
}

// FuzzShouldNotifySender runs the header reader on arbitrary bytes.
func FuzzShouldNotifySender(f *testing.F) {
	f.Add("alice@example.net", []byte("Precedence: bulk\r\n\tx\n"))
	f.Add("", []byte(" leading continuation\nList-Id: x\n"))
	f.Fuzz(func(t *testing.T, sender string, header []byte) {
		got := ShouldNotifySender(sender, header)
		if got && validAddress(bareAddress(sender)) != nil {
			t.Fatalf("ShouldNotifySender(%q) = true for an unusable address", sender)
		}
	})
}
