package mimetree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzFields feeds arbitrary header blocks: Block must account for every
// byte once, in order, and Fields must return trimmed one-line values of
// named fields whose offsets lie in the block.
func FuzzFields(f *testing.F) {
	f.Add([]byte("Subject: a\r\n b\r\n\tc\r\nX: \n \nbad line\n cont\n: empty name\n"))
	f.Add([]byte(" leading: continuation\nContent-Type : text/plain;\n charset=utf-8\n"))
	f.Add([]byte("X-Long: a\n" + strings.Repeat(" b\n", 100)))
	f.Fuzz(func(t *testing.T, b []byte) {
		pos := 0
		for _, fl := range Block(b, 0, len(b)) {
			if fl.Start != pos || fl.End <= fl.Start || fl.End > len(b) {
				t.Fatalf("Block field %+v after offset %d of %d", fl, pos, len(b))
			}
			if (fl.Name == "") != (fl.Colon < 0) || (fl.Colon >= 0 && (fl.Colon < fl.Start || fl.Colon >= fl.End)) {
				t.Fatalf("Block field %+v: name and colon disagree", fl)
			}
			pos = fl.End
		}
		if pos != len(b) {
			t.Fatalf("Block covered %d of %d bytes", pos, len(b))
		}
		for _, fl := range Fields(b, 0, len(b)) {
			if fl.Name == "" || fl.Name != strings.TrimSpace(fl.Name) || strings.ContainsAny(fl.Value, "\n") ||
				fl.Value != strings.TrimSpace(fl.Value) {
				t.Fatalf("Fields field %+v", fl)
			}
		}
		end, body := SplitHeader(b, 0, len(b))
		if end > body || body > len(b) {
			t.Fatalf("SplitHeader = %d, %d of %d bytes", end, body, len(b))
		}
	})
}

// FuzzWalk feeds arbitrary messages to Walk and Parts: no panic, every
// node's byte range lies inside the body and in order, every path is
// found again, and Parts hands out bodies within the message.
func FuzzWalk(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=b\n\n--b\n--b\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\ny\n--b--\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\npre --a \r\n--a\r\n\r\n--a\r\n"))
	f.Add([]byte("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nQQ==\n"))
	if files, _ := filepath.Glob("../rebuild/testdata/*.eml"); len(files) > 0 {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		end, start := SplitHeader(raw, 0, len(raw))
		header, body := raw[:end], raw[start:]
		tr, err := Walk(header, body, Options{MaxParts: 200, MaxDepth: 20})
		if err == nil {
			for path, n := range tr.Paths {
				if n.Start > n.BodyStart || n.BodyStart > n.End || n.End > len(body) || (n.Delim >= 0 && n.Delim > n.Start) {
					t.Fatalf("node %s: start %d, body %d, end %d, delim %d of %d", path, n.Start, n.BodyStart, n.End, n.Delim, len(body))
				}
				if _, ok := tr.Find(path); !ok {
					t.Fatalf("Find(%q) failed on a walked path", path)
				}
			}
		}
		ents, err := Parts(raw, 200, 20)
		if err != nil {
			return
		}
		for _, e := range ents {
			if len(e.Body) > len(raw) || len(e.Header) > len(raw) {
				t.Fatalf("entity %q larger than the message", e.Path)
			}
		}
	})
}
