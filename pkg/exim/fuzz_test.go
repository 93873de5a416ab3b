package exim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// FuzzParseH checks that ParseH never panics, stays within its limits,
// and that what it accepts writes back byte for byte, parses again after
// header edits, and keeps its envelope through them.
func FuzzParseH(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.H")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("1xaakB-0007zK-2h-H\nu 1 2\n<>\n1 0\n-aclm _x 3\na\nb\nYY a@b\nNN c@d\nNN e@f\n1\nx@y  0,2  0,-1#3\n\n010  X: yes\n"))
	lim := Limits{MaxHBytes: 1 << 16, MaxLineBytes: 4096, MaxHeaders: 200, MaxRecipients: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseH(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		if !bytes.Equal(h.Bytes(), data) {
			t.Fatalf("round trip changed the file")
		}
		if len(h.Recipients()) > lim.MaxRecipients || len(h.Headers()) > lim.MaxHeaders {
			t.Fatalf("limits exceeded")
		}
		sender, rcpts := h.Sender(), len(h.Recipients())
		if err := h.Edit([]message.HeaderEdit{
			{Op: message.HeaderReplace, Name: "Subject", Value: "x"},
			{Op: message.HeaderDelete, Name: "Received"},
			{Op: message.HeaderAdd, Name: "X-QScan", Value: "clean"},
		}, false); err != nil {
			t.Fatalf("Edit: %v", err)
		}
		h2, err := ParseH(bytes.NewReader(h.Bytes()), Limits{})
		if err != nil {
			t.Fatalf("edited file does not parse: %v", err)
		}
		if h2.Sender() != sender || len(h2.Recipients()) != rcpts || !bytes.Contains(h2.HeaderBlock(), []byte("X-QScan: clean\n")) {
			t.Fatalf("edit changed the envelope or lost the addition")
		}
	})
}
