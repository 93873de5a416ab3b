package spamcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

// FuzzHeaders feeds hostile header blocks to Headers and message.EditHeader: no forged
// spam field may survive, every edit must stay one field, and tagging the
// result again must not tag the subject twice.
func FuzzHeaders(f *testing.F) {
	files, _ := filepath.Glob("testdata/headers/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, uint8(1), 7.3)
		}
	}
	f.Add([]byte("Subject: a\r\n b\nX-Spam-Flag: YES\r\n\tx\n:\n\n"), uint8(2), 12.0)
	f.Fuzz(func(t *testing.T, header []byte, level uint8, score float64) {
		r := &message.SpamResult{Level: []message.SpamLevel{"ham", "spam", "high"}[level%3], Score: score, Required: 5,
			Engines: []string{NameSpamAssassin}, Rules: []message.SpamRule{{Name: "SBL"}, {Name: "X", Score: score}}}
		if level&4 != 0 {
			r.Unchecked = "rspamd: down\nX-Spam-Flag: NO"
		}
		opts := DefaultHeaderOptions()
		opts.Lists = []string{"SBL"}
		edits, err := Headers(r, header, "Example", opts)
		if err != nil {
			t.Fatalf("Headers: %v", err)
		}
		names, _ := spam.Names("Example")
		added := map[string]int{}
		for _, e := range edits {
			checkValue(t, e)
			if e.Op == message.HeaderAdd {
				added[strings.ToLower(e.Name)]++
			}
		}
		out := message.EditHeader(header, edits)
		for _, fl := range message.HeaderFields(out) {
			if spam.ShouldStrip(fl.Name, names) {
				added[strings.ToLower(fl.Name)]--
			}
		}
		for name, n := range added {
			if n != 0 {
				t.Fatalf("field %s: %d more (or fewer) than added in %q", name, -n, out)
			}
		}
		again, err := Headers(r, out, "Example", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range again {
			if e.Name == "Subject" {
				t.Fatalf("subject tagged twice: %q", out)
			}
		}
	})
}

// checkValue fails when a value could end its field early.
func checkValue(t *testing.T, e message.HeaderEdit) {
	t.Helper()
	for i, line := range strings.Split(e.Value, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i > 0 && (line == "" || line[0] != ' ' && line[0] != '\t') {
			t.Fatalf("edit %+v: line break not followed by a blank", e)
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) && e.Name != "Subject" {
			t.Fatalf("edit %+v: control character", e)
		}
	}
	if e.Op != message.HeaderDelete && !message.ValidHeaderName(e.Name) {
		t.Fatalf("edit %+v: bad name", e)
	}
	if bytes.ContainsAny([]byte(e.Name), "\r\n") {
		t.Fatalf("edit %+v: line break in name", e)
	}
}
