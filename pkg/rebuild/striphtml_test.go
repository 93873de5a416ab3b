package rebuild

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/internal/golden"
	"github.com/qscan/qscan/pkg/message"
)

// splitMsg cuts a whole message into its header block (with its last
// line break) and body, as the qf and df hold them.
func splitMsg(t *testing.T, raw []byte) (header, body []byte) {
	t.Helper()
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 {
			return raw[:i+len(sep)/2], raw[i+len(sep):]
		}
	}
	t.Fatalf("no blank line after the header")
	return nil, nil
}

// outgoingMsg is the message as it leaves: edited header, blank line, body.
func outgoingMsg(header []byte, res Result) []byte {
	h := message.EditHeader(header, res.Edits())
	nl := "\n"
	if bytes.HasSuffix(h, []byte("\r\n")) {
		nl = "\r\n"
	}
	return append(append(h, nl...), res.Body...)
}

// htmlLeaves returns the text/html leaves a mail client reads in raw
// (not inside attached messages), and the concatenated text/plain.
func readBack(t *testing.T, raw []byte) (html []string, plain string) {
	t.Helper()
	root, err := enmime.ReadParts(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("enmime.ReadParts: %v", err)
	}
	var b strings.Builder
	root.BreadthMatchAll(func(p *enmime.Part) bool {
		switch {
		case p.FirstChild != nil:
		case p.ContentType == "text/html":
			html = append(html, string(p.Content))
		case p.ContentType == "text/plain":
			b.Write(p.Content)
		}
		return false
	})
	return html, b.String()
}

// TestStripHTMLGolden converts testdata/strip/NAME.eml, compares the
// outgoing message with NAME.want, and reads it back as a mail client
// would: the HTML that must go is gone, its text is there.
func TestStripHTMLGolden(t *testing.T) {
	tests := map[string]struct {
		keptHTML int      // HTML leaves left (attachments)
		want     []string // in the text/plain parts
		not      []string // nowhere in the output
		keep     []string // still in the output, as they were
	}{
		"html-only":       {0, []string{"Café & watches\n\nBest prices\ntoday only!", "Buy now <http://spam.example/buy>", "visit http://spam.example/\n"}, []string{"Offer", "color: red", "<http://spam.example/>"}, nil},
		"alternative":     {0, []string{"Plain version.", "HTML version\n\n* one\n* two\n"}, nil, nil},
		"html-attachment": {1, []string{"Body text\n"}, []string{"<b>text</b>"}, []string{"<p>an attached page, kept</p>", "<p>inside an attached message, kept</p>"}},
		"nested":          {0, []string{"plain", "a b\nc d\n"}, nil, nil},
		"entities":        {0, []string{`<tag> "q" été €5 ☺ ` + "© AT&T &bogus; &", "  keep\n    these   blanks", "a\n\nb\n"}, nil, nil},
		"script-style":    {0, []string{"no script text\n\nVisible js link anchor x@example.net\n"}, []string{"hidden", "written", "display", "template text", "javascript", "#top", "<mailto:"}, nil},
		"crlf":            {0, []string{"one\r\n\r\ntwo\r\n"}, nil, nil},
	}
	files, _ := filepath.Glob("testdata/strip/*.eml")
	if len(files) < len(tests) {
		t.Fatalf("found %d cases, want at least %d", len(files), len(tests))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		tt, ok := tests[name]
		if !ok {
			continue // no-html is TestStripHTMLUnchanged's
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		h, b := splitMsg(t, raw)
		res, err := StripHTML(h, b, HTMLLimits{})
		if err != nil {
			t.Errorf("StripHTML(%s): %v", name, err)
			continue
		}
		if !res.Changed {
			t.Errorf("StripHTML(%s).Changed = false, want true", name)
		}
		out := outgoingMsg(h, res)
		golden.Check(t, strings.TrimSuffix(file, ".eml")+".want", out)
		html, plain := readBack(t, out)
		if len(html) != tt.keptHTML {
			t.Errorf("StripHTML(%s) leaves %d HTML parts, want %d: %q", name, len(html), tt.keptHTML, html)
		}
		for _, w := range tt.want {
			if !strings.Contains(plain, w) {
				t.Errorf("StripHTML(%s) text lacks %q:\n%s", name, w, plain)
			}
		}
		for _, w := range tt.keep {
			if !bytes.Contains(out, []byte(w)) {
				t.Errorf("StripHTML(%s) output lost %q", name, w)
			}
		}
		for _, w := range tt.not {
			if bytes.Contains(out, []byte(w)) {
				t.Errorf("StripHTML(%s) output still has %q", name, w)
			}
		}
	}
}

// TestStripHTMLKeepsOtherBytes checks that the parts around the HTML are
// byte-identical and that an alternative stays an alternative.
func TestStripHTMLKeepsOtherBytes(t *testing.T) {
	raw, _ := os.ReadFile("testdata/strip/html-attachment.eml")
	h, b := splitMsg(t, raw)
	res, err := StripHTML(h, b, HTMLLimits{})
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("--MIX\nContent-Type: text/html; name="))
	j := bytes.Index(res.Body, []byte("--MIX\nContent-Type: text/html; name="))
	if i < 0 || j < 0 || !bytes.Equal(b[i:], res.Body[j:]) {
		t.Errorf("the bytes after the converted part changed:\n%s", res.Body)
	}
	if !bytes.HasPrefix(res.Body, []byte("preamble\n--MIX\n")) {
		t.Errorf("the preamble changed:\n%s", res.Body)
	}
	raw, _ = os.ReadFile("testdata/strip/alternative.eml")
	h, b = splitMsg(t, raw)
	res, _ = StripHTML(h, b, HTMLLimits{})
	if got := string(message.EditHeader(h, res.Edits())); !strings.Contains(got, "multipart/alternative") {
		t.Errorf("alternative became:\n%s", got)
	}
}

func TestStripHTMLUnchanged(t *testing.T) {
	raw, _ := os.ReadFile("testdata/strip/no-html.eml")
	h, b := splitMsg(t, raw)
	res, err := StripHTML(h, b, HTMLLimits{})
	if err != nil || res.Changed || !bytes.Equal(res.Body, b) || len(res.Set)+len(res.Delete) != 0 {
		t.Errorf("StripHTML(no html) = %+v, %v; want the body unchanged", res, err)
	}
}

// TestStripHTMLBounded checks the limits: deep MIME nesting is refused
// before any parser recurses, and huge HTML nesting is cut by MaxTokens.
func TestStripHTMLBounded(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 5000; i++ {
		b.WriteString("--b\nContent-Type: multipart/mixed; boundary=b\n\n")
	}
	h := []byte("Content-Type: multipart/mixed; boundary=b\n")
	if _, err := StripHTML(h, b.Bytes(), HTMLLimits{}); !errors.Is(err, ErrTooComplex) {
		t.Errorf("StripHTML(5000 nested multiparts) error = %v, want ErrTooComplex", err)
	}
	html := strings.Repeat("<div>", 90000) + "deep" + strings.Repeat("</div>", 90000)
	h = []byte("Content-Type: text/html\n")
	res, err := StripHTML(h, []byte(html), HTMLLimits{MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(res.Body, []byte("deep")) || !bytes.Contains(res.Body, []byte("[...]")) {
		t.Errorf("StripHTML(90000 nested divs, MaxTokens 1000) = %.200q, want cut", res.Body)
	}
	res, err = StripHTML(h, []byte(html), HTMLLimits{})
	if err != nil || !bytes.Contains(res.Body, []byte("deep")) {
		t.Errorf("StripHTML(90000 nested divs) = %.200q, %v; want the text", res.Body, err)
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain  words\n\tand tabs", "plain words and tabs\n"},
		{"<p>one</p><p>two</p>", "one\n\ntwo\n"},
		{"a<br>b<br/><br>c", "a\nb\n\nc\n"},
		{"<ul><li>x<li>y</ul>z", "* x\n* y\n\nz\n"},
		{`<a href="http://e.example/?a=1&amp;b=2">go</a>`, "go <http://e.example/?a=1&b=2>\n"},
		{`<a href="http://e.example/">  http://e.example/ </a>`, "http://e.example/\n"},
		{`<a href=" http://e.exa mple/">e</a>`, "e <http://e.example/>\n"},
		{`<a href="http://e.example/"><img src=x></a>`, "<http://e.example/>\n"},
		{"<head><title>t</title>x", ""},
		{"<head><title>t</title><p>shown</p>", "shown\n"},
		{"<script>a<b</script>after", "after\n"},
		{"<scr<script>ipt>x</script>y", "ipt>xy\n"}, // "scr<script" is one odd tag name
		{`<a href=" http://e.exa mple/">x`, "x\n"},  // never closed: no target shown
		{"\x00a\x01b\xffc", "ab\uFFFDc"},            // no room left for the final line break
		{"<!-- comment -->t<!DOCTYPE html>", "t\n"},
		{"&amp;&amp;&amp;", "&&&\n"},
	}
	for _, tt := range tests {
		got, cut := HTMLText([]byte(tt.in), 0)
		if string(got) != tt.want || cut {
			t.Errorf("HTMLText(%q) = %q, %v; want %q, false", tt.in, got, cut, tt.want)
		}
	}
}

// TestHTMLTextNeverGrows checks the output bound on input made to expand:
// invalid bytes become three-byte replacement characters.
func TestHTMLTextNeverGrows(t *testing.T) {
	for _, in := range []string{strings.Repeat("\xff", 100), strings.Repeat("<li>", 100), "<a href=x>x</a>"} {
		got, _ := HTMLText([]byte(in), 0)
		if len(got) > len(in) {
			t.Errorf("HTMLText(%q) = %d bytes, more than its %d", in, len(got), len(in))
		}
	}
}

// TestStripHTMLCharsetGrowth checks the text budget: windows-1252 bytes
// that become three-byte UTF-8 characters do not make the text longer
// than the body.
func TestStripHTMLCharsetGrowth(t *testing.T) {
	h := []byte("Content-Type: text/html; charset=windows-1252\n")
	body := bytes.Repeat([]byte{0x80}, 3000)
	res, err := StripHTML(h, body, HTMLLimits{})
	if err != nil {
		t.Fatal(err)
	}
	_, plain := readBack(t, outgoingMsg(h, res))
	if len(plain) > len(body) || !strings.HasPrefix(plain, "€€€") {
		t.Errorf("StripHTML(3000 windows-1252 euro signs) text = %d bytes %.12q, want at most %d, euros", len(plain), plain, len(body))
	}
}
