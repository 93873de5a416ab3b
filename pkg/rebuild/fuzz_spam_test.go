package rebuild

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the golden messages to f's corpus, next to the seeds in
// testdata/fuzz/.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.eml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// cut splits raw at its first blank line, or takes it all as the body of
// an HTML message.
func cut(raw []byte) (header, body []byte) {
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:]
	}
	return []byte("Content-Type: text/html\n"), raw
}

// FuzzStripHTML checks that StripHTML never panics, and that what it
// returns is bounded by the input: kept bytes, texts no longer than the
// body (quoted-printable and CRLF at most triple and double them), one
// part header per part.
func FuzzStripHTML(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		header, body := cut(raw)
		res, err := StripHTML(header, body, HTMLLimits{MaxTokens: 5000, MaxParts: 200})
		if err != nil {
			return
		}
		if !res.Changed && !bytes.Equal(res.Body, body) {
			t.Fatalf("StripHTML: unchanged result with another body")
		}
		if bound := 7*len(body) + 4096; len(res.Body) > bound {
			t.Fatalf("StripHTML: %d bytes out of a %d-byte body, bound %d", len(res.Body), len(body), bound)
		}
	})
}

// FuzzHTMLText checks HTMLText's promise: no panic, never longer than
// its input.
func FuzzHTMLText(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("<a href=x>y</a><li><br><pre> a </pre>&amp;\xff"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, _ := HTMLText(src, 5000)
		if len(out) > len(src) {
			t.Fatalf("HTMLText(%q) = %d bytes, more than %d", src, len(out), len(src))
		}
	})
}

// FuzzAttachment checks that the original comes back whole from the
// wrapped message, whatever it holds.
func FuzzAttachment(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		header, body := cut(raw)
		res := Attachment(header, body, []byte("spam"), []byte("ID"))
		b := boundaryOf(t, res.Set[1].Value)
		if bytes.Count(res.Body, []byte("--"+b)) != 3 {
			t.Fatalf("Attachment: boundary %q occurs %d times, want 3", b, bytes.Count(res.Body, []byte("--"+b)))
		}
		if !bytes.Contains(res.Body, body) || !bytes.Contains(res.Body, header) {
			t.Fatalf("Attachment: the original bytes are not all kept")
		}
	})
}
