package rebuild

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/qscan/qscan/internal/golden"
	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/mimetree"
)

// disarmCase is one kind of thing the rewrite neutralises: html goes in
// the HTML body, text in the text body (both around a line in the
// charset's own script); want is what the rewritten body must show.
type disarmCase struct {
	name, html, text, want string
}

var disarmCases = []disarmCase{
	{"form", `<form action="http://collect.example/login"><input name=pw></form>`, "", "[qscan: form removed]"},
	{"iframe", `<iframe src="http://ads.example/frame"></iframe>`, "", "[qscan: iframe removed]"},
	{"script", `<script>document.location="http://x.example"</script><p onclick="steal()">x</p>`, "", "[qscan: script removed]"},
	{"object-codebase", `<object codebase="http://x.example/a.cab" classid="clsid:1"></object>`, "", "[qscan: object removed]"},
	{"javascript-url", `<a href="java&#x09;script:alert(1)">open</a>`, "", "#qscan-removed"},
	{"data-url", `<a href="data:text/html;base64,PHNjcmlwdD4=">open</a>`, "", "#qscan-removed"},
	{"meta-refresh", `<meta http-equiv="refresh" content="0;url=http://x.example">`, "", "meta refresh removed"},
	{"webbug", `<img src="http://track.example/o.gif?u=1" width="1" height="1">`, "", "data:image/gif;base64"},
	{"phishing-html", `<a href="http://evil.example/signin">www.paypal.com</a>`, "", "this link leads to evil.example"},
	{"phishing-text", "", "Sign in at www.paypal.com <http://evil.example/signin>", "this link leads to evil.example"},
}

// disarmCharsets: the native line of each, which must come back as it was.
var disarmCharsets = []struct{ name, cs, line string }{
	{"utf8", "utf-8", "Grüße – 日本語"},
	{"latin1", "iso-8859-1", "Grüße, café"},
	{"jis", "iso-2022-jp", "日本語のメールです"},
}

// encodeIn encodes s in charset cs and transfer encoding cte.
func encodeIn(t *testing.T, s, cs, cte string) string {
	t.Helper()
	e, _ := charset.Lookup(cs)
	b, _, err := transform.String(e.NewEncoder(), s)
	if err != nil {
		t.Fatal(err)
	}
	if cte == "base64" {
		enc := base64.StdEncoding.EncodeToString([]byte(b))
		var out strings.Builder
		for len(enc) > 76 {
			out.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		return out.String() + enc + "\n"
	}
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	w.Write([]byte(b))
	w.Close()
	return strings.ReplaceAll(out.String(), "\r\n", "\n") + "\n"
}

// disarmMessage builds a message: a multipart/alternative of a text and an
// HTML body in charset cs and encoding cte, a PDF and a text attachment.
func disarmMessage(t *testing.T, c disarmCase, cs, cte, line string) []byte {
	html := "<html><head><title>t</title></head><body><p>" + line + "</p>" + c.html + "<p>" + line + "</p></body></html>"
	text := line + "\n" + c.text + "\n" + line + "\n"
	part := func(ty, body string) string {
		return "Content-Type: " + ty + "; charset=" + cs + "\nContent-Transfer-Encoding: " + cte + "\n\n" + encodeIn(t, body, cs, cte)
	}
	return []byte("From: sender@example.org\nTo: rcpt@example.net\nSubject: disarm " + c.name + "\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\n\n" +
		"--outer\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n" +
		"--alt\n" + part("text/plain", text) + "--alt\n" + part("text/html", html) + "--alt--\n" +
		"--outer\nContent-Type: application/pdf; name=\"a.pdf\"\nContent-Disposition: attachment; filename=\"a.pdf\"\n" +
		"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\n" +
		"--outer\nContent-Type: text/plain; charset=utf-8; name=\"notes.txt\"\nContent-Disposition: attachment; filename=\"notes.txt\"\n\n" +
		"<form> and www.paypal.com <http://evil.example/> stay as they are in an attachment\n--outer--\n")
}

// leaves lists the leaf parts of an enmime tree in document order.
func leaves(p *enmime.Part, out []*enmime.Part) []*enmime.Part {
	if p == nil {
		return out
	}
	if p.FirstChild == nil {
		out = append(out, p)
	}
	for c := p.FirstChild; c != nil; c = c.NextSibling {
		out = leaves(c, out)
	}
	return out
}

// TestDisarmGolden rebuilds, for each kind of disarm, web bug and phishing
// case in UTF-8, ISO-8859-1 and ISO-2022-JP, quoted-printable and base64,
// a message with Disarm and compares it to testdata/disarm/NAME.want
// (go test -run TestDisarmGolden ./pkg/rebuild -update rewrites them). The
// MIME library then reads the result: every part Disarm did not edit has
// the same header and content as before, and its raw bytes are in the
// output; an edited part keeps its charset and encoding, reads back in
// its charset with the native line intact and the mark of the rewrite.
func TestDisarmGolden(t *testing.T) {
	opt := htmlsafe.Options{IFrame: htmlsafe.Disarm, Form: htmlsafe.Disarm, Script: htmlsafe.Disarm,
		ObjectCodebase: htmlsafe.Disarm, WebBugs: true, Phishing: true, Numeric: true}
	for _, c := range disarmCases {
		for _, cs := range disarmCharsets {
			for _, cte := range []string{"quoted-printable", "base64"} {
				name := c.name + "-" + cs.name + "-" + map[string]string{"quoted-printable": "qp", "base64": "b64"}[cte]
				t.Run(name, func(t *testing.T) {
					raw := disarmMessage(t, c, cs.cs, cte, cs.line)
					header, body := splitMessage(raw)
					res, plan, err := Disarm(header, body, opt, Options{})
					if err != nil {
						t.Fatalf("Disarm: %v", err)
					}
					if !res.Changed || len(plan.Edits) == 0 {
						t.Fatalf("nothing disarmed: %+v", plan)
					}
					got := outgoing(header, res)
					golden.Check(t, filepath.Join("testdata", "disarm", name+".want"), got)
					checkDisarmed(t, raw, got, plan, c, cs.line, cs.cs, cte)
				})
			}
		}
	}
}

func checkDisarmed(t *testing.T, raw, got []byte, plan htmlsafe.Plan, c disarmCase, line, cs, cte string) {
	t.Helper()
	edited := map[string]bool{}
	for _, e := range plan.Edits {
		edited[e.Path] = true
	}
	header, body := splitMessage(raw)
	tr, err := mimetree.Walk(header, body, mimetree.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(n *mimetree.Node)
	walk = func(n *mimetree.Node) {
		if len(n.Kids) == 0 {
			paths = append(paths, n.Path)
			if !edited[n.Path] && !bytes.Contains(got, body[n.Start:n.End]) {
				t.Errorf("part %s is not byte-identical in the output", n.Path)
			}
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(tr.Root)
	before, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	after, err := enmime.ReadEnvelope(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Errors) > len(before.Errors) {
		t.Errorf("the MIME library finds new errors: %v", after.Errors)
	}
	lb, la := leaves(before.Root, nil), leaves(after.Root, nil)
	if len(lb) != len(paths) || len(la) != len(lb) {
		t.Fatalf("leaves: %d before, %d after, %d paths", len(lb), len(la), len(paths))
	}
	for i, p := range paths {
		b, a := lb[i], la[i]
		// (the library reports the charset in the case it converted from)
		if a.ContentType != b.ContentType || !strings.EqualFold(a.Charset, b.Charset) || a.FileName != b.FileName ||
			a.Header.Get("Content-Type") != b.Header.Get("Content-Type") ||
			a.Header.Get("Content-Transfer-Encoding") != b.Header.Get("Content-Transfer-Encoding") {
			t.Errorf("part %s header: %s %s %q %s, was %s %s %q %s", p, a.ContentType, a.Charset, a.FileName,
				a.Header.Get("Content-Transfer-Encoding"), b.ContentType, b.Charset, b.FileName, b.Header.Get("Content-Transfer-Encoding"))
		}
		if edited[p] {
			if s := string(a.Content); strings.Count(s, line) != 2 {
				t.Errorf("part %s lost its %s text %q:\n%s", p, cs, line, s)
			}
			continue
		}
		if !bytes.Equal(a.Content, b.Content) {
			t.Errorf("part %s content changed", p)
		}
	}
	shown := after.HTML
	if c.html == "" {
		shown = after.Text
	}
	if !strings.Contains(shown, c.want) {
		t.Errorf("the rewritten body lacks %q:\n%s", c.want, shown)
	}
	if !strings.Contains(string(got), "Content-Transfer-Encoding: "+cte) {
		t.Errorf("the encoding %s is gone", cte)
	}
}
