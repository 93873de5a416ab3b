package sendmail

import "testing"

func TestSplitMessage(t *testing.T) {
	tests := []struct{ in, header, body string }{
		{"Subject: x\n\nbody\n", "Subject: x\n", "body\n"},
		{"Subject: x\r\n\r\nbody\r\n", "Subject: x\n", "body\n"},
		{"From a@b Mon Jan  5 09:00:00 2026\nSubject: x\n\nbody\n", "Subject: x\n", "body\n"},
		{"From a@b Mon Jan  5 09:00:00 2026", "", ""},
		{"From : a@b\n\nbody\n", "From : a@b\n", "body\n"}, // obsolete syntax of a From: field
		{"From \t: a@b\n\nbody\n", "From \t: a@b\n", "body\n"},
		{"From: a@b\n\nFrom a@b\n", "From: a@b\n", "From a@b\n"},
	}
	for _, tt := range tests {
		h, b := SplitMessage([]byte(tt.in))
		if string(h) != tt.header || string(b) != tt.body {
			t.Errorf("SplitMessage(%q) = %q, %q; want %q, %q", tt.in, h, b, tt.header, tt.body)
		}
	}
}
