package rebuild

import (
	"bytes"
	"testing"

	"github.com/qscan/qscan/pkg/mimetree"
)

// FuzzRebuild feeds arbitrary messages with a replacement of a part (by
// default "1") and optionally an inline warning: Rebuild must not panic,
// and what it returns keeps the bytes before its first edit.
func FuzzRebuild(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"), "1", false, false)
	f.Add([]byte("Content-Type: multipart/alternative; boundary=b\n\n--b\n--b\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\ny\n--b--\n"), "2.1", true, true)
	f.Add([]byte("Subject: x\n\nplain"), "1", false, true)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\npre --a \r\n--a\r\n\r\n--a\r\n"), "1", true, false)
	f.Fuzz(func(t *testing.T, raw []byte, path string, del, warn bool) {
		header, body := splitMessage(raw)
		opt := Options{MaxParts: 200, MaxDepth: 20}
		if warn {
			opt.InlineWarning = []byte("warning\n")
		}
		res, err := Rebuild(header, body, []Replacement{{MIMEPath: path, Text: []byte("removed"), Delete: del}}, opt)
		if err != nil {
			return
		}
		if !res.Changed {
			t.Fatalf("Rebuild succeeded without a change")
		}
		tr, err := walk(header, body, opt.withDefaults())
		if err != nil {
			t.Fatalf("walk failed after Rebuild succeeded: %v", err)
		}
		n, err := find(tr, path)
		if err != nil {
			t.Fatalf("find failed after Rebuild succeeded: %v", err)
		}
		if n.Top || warn {
			return
		}
		// Nothing before the part (or its parent's Content-Type) may change.
		keep := n.Delim
		for p := n.Parent; p != nil; p = p.Parent {
			if f, ok := mimetree.Lookup(p.Fields, "Content-Type"); ok && !p.Top && f.Start < keep {
				keep = f.Start
			}
		}
		if keep > 0 && !bytes.Equal(res.Body[:keep], body[:keep]) {
			t.Fatalf("bytes before offset %d changed", keep)
		}
	})
}
