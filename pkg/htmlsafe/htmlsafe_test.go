package htmlsafe

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

var all = Options{IFrame: Disarm, Form: Disarm, Script: Disarm, ObjectCodebase: Disarm, WebBugs: true, Phishing: true, Numeric: true}

// apply runs Inspect and splices its edits.
func apply(t *testing.T, raw []byte, o Options) ([]byte, Plan) {
	t.Helper()
	i := bytes.Index(raw, []byte("\n\n"))
	h, b := raw[:i+1], raw[i+2:]
	p, err := Inspect(h, b, o)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte{}, h...)
	out = append(out, '\n')
	pos := 0
	for _, e := range p.Edits {
		out = append(out, b[pos:e.Start]...)
		out = append(out, e.With...)
		pos = e.End
	}
	return append(out, b[pos:]...), p
}

func TestCharsetsAndEncodings(t *testing.T) {
	jis := func(s string) string {
		e, _ := charset.Lookup("iso-2022-jp")
		b, _, err := transform.String(e.NewEncoder(), s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	latin1 := "<p>Gr\xfc\xdfe</p><form action=x></form>"
	for _, tc := range []struct{ name, cs, cte, html, want string }{
		{"utf8-qp", "utf-8", "quoted-printable", "<p>Grüße</p><form action=x></form>", "Grüße"},
		{"latin1-base64", "iso-8859-1", "base64", latin1, "Grüße"},
		{"latin1-8bit", "iso-8859-1", "8bit", latin1, "Grüße"},
		{"jis-7bit", "iso-2022-jp", "7bit", jis("<p>こんにちは</p><iframe src=x></iframe>"), "こんにちは"},
		{"jis-base64", "iso-2022-jp", "base64", jis("<p>こんにちは</p><script>x</script>"), "こんにちは"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.html
			if tc.cte == "base64" {
				body = base64.StdEncoding.EncodeToString([]byte(body))
			} else if tc.cte == "quoted-printable" {
				body = "<p>Gr=C3=BC=C3=9Fe</p><form action=3Dx></form>"
			}
			other := "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAwQF\n--b--\n"
			raw := "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html; charset=" +
				tc.cs + "\nContent-Transfer-Encoding: " + tc.cte + "\n\n" + body + "\n" + other
			out, p := apply(t, []byte(raw), all)
			if len(p.Edits) != 1 {
				t.Fatalf("edits = %d, want 1", len(p.Edits))
			}
			if !bytes.HasSuffix(out, []byte(other)) {
				t.Errorf("the other part changed:\n%s", out)
			}
			if !bytes.Contains(out, []byte("Content-Transfer-Encoding: "+tc.cte+"\n")) || !bytes.Contains(out, []byte("charset="+tc.cs)) {
				t.Errorf("header of the part changed:\n%s", out)
			}
			env, err := enmime.ReadEnvelope(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(env.HTML, tc.want) || !strings.Contains(env.HTML, "removed]") {
				t.Errorf("HTML = %q, want %q and a marker", env.HTML, tc.want)
			}
			if len(env.Attachments)+len(env.Inlines)+len(env.OtherParts) != 1 {
				t.Errorf("parts: %d attachments", len(env.Attachments))
			}
		})
	}
}

func TestPhishingCases(t *testing.T) {
	o := all
	o.Sites = NewSites([]string{"*.safe.example"}, []string{"bad.example"})
	for _, tc := range []struct {
		text, href string
		flag       bool
	}{
		{"www.paypal.com", "http://evil.example/", true},
		{"https://www.paypal.com/signin", "https://www.paypal.com/x", false},
		{"www.paypal.com", "https://paypal.com/", false},
		{"click here", "http://evil.example/", false},
		{"www.paypal.com", "http://192.0.2.7/", true},
		{"account", "http://www.paypal.com@evil.example/", true},
		{"www.paypal.com", "http://login.safe.example/", false},
		{"click", "http://bad.example/", true},
		{"pay", "http://xn--pypal-4ve.com/", true},
		{"support@paypal.com", "mailto:x@evil.example", false},
	} {
		r, _ := o.phish(tc.text, tc.href)
		if (r != "") != tc.flag {
			t.Errorf("phish(%q, %q) = %q, want flagged %v", tc.text, tc.href, r, tc.flag)
		}
	}
}

func TestTextLinks(t *testing.T) {
	raw := "From: a@b\n\nSee www.paypal.com <http://evil.example/> and [www.bank.com](http://bank.com/x) and http://ok.example/.\n"
	out, p := apply(t, []byte(raw), all)
	if n := bytes.Count(out, []byte("[qscan warning")); n != 1 || len(p.Findings) != 1 {
		t.Errorf("warnings = %d, findings %v:\n%s", n, p.Findings, out)
	}
	if n := bytes.Count(out, []byte("possible fraud attempt")); n != 1 {
		t.Errorf("banners = %d", n)
	}
}

func TestMaxLinks(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@b\nContent-Type: text/html\n\n")
	for i := 0; i < 10; i++ {
		b.WriteString(`<a href="http://evil.example/">www.paypal.com</a>`)
	}
	o := all
	for _, tc := range []struct {
		max, flagged int
		trunc        bool
	}{{10, 10, false}, {9, 9, true}} {
		o.MaxLinks = tc.max
		_, p := apply(t, []byte(b.String()), o)
		if p.Findings[0].Count != tc.flagged || p.Truncated != tc.trunc {
			t.Errorf("MaxLinks %d: %d flagged, truncated %v", tc.max, p.Findings[0].Count, p.Truncated)
		}
	}
}

func TestDKIMFriendly(t *testing.T) {
	raw := "DKIM-Signature: v=1\nContent-Type: text/html\n\n<body><img src=\"http://t.example/a.gif\" width=1 height=1></body>\n"
	o := all
	o.DKIMFriendly, o.SignHTML = true, "<p>sig</p>"
	if _, p := apply(t, []byte(raw), o); len(p.Edits) != 0 {
		t.Errorf("DKIM-signed message without danger modified: %+v", p.Edits)
	}
	o.DKIMFriendly = false
	if _, p := apply(t, []byte(raw), o); len(p.Edits) != 1 {
		t.Errorf("edits = %d, want 1", len(p.Edits))
	}
}

func TestShippedMailScannerLists(t *testing.T) {
	dir := "../../../shared/reference/mailscanner-v5-etc/"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("MailScanner reference files absent:", err)
	}
	s, err := LoadSites([]string{dir + "phishing.safe.sites.conf"}, []string{dir + "phishing.bad.sites.conf"})
	if err != nil {
		t.Fatal(err)
	}
	if safe, bad := s.Len(); safe < 500 || bad < 5000 {
		t.Errorf("loaded %d safe, %d bad", safe, bad)
	}
	if !s.Bad("0nline-validation.com") || !s.Safe("www.01net.com") {
		t.Error("known entries not matched")
	}
	if err := s.Reload(); err != nil {
		t.Error(err)
	}
}

func FuzzRewrite(f *testing.F) {
	f.Add([]byte(`<a href="http://evil.example">www.paypal.com</a><form><script>x</script><img src=http://a/b width=1 height=1>`), false)
	f.Add([]byte("see www.a.com <http://b.example/> [x](y)"), true)
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		links := 0
		o := all.withDefaults()
		o.MaxTokens = 10000
		if text {
			rewriteText(data, "1", &o, &links)
			return
		}
		r := rewriteHTML(data, "1", &o, &links)
		if r.bannerAt > len(r.out) || r.sigAt > len(r.out) || r.bannerAt > r.sigAt {
			t.Fatalf("insert points %d %d out of %d", r.bannerAt, r.sigAt, len(r.out))
		}
	})
}

// BenchmarkLinks100k: 100,000 phishing links in about 10 MB of HTML.
func BenchmarkLinks100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Content-Type: text/html\n\n<html><body>")
	for i := 0; i < DefaultMaxLinks; i++ {
		fmt.Fprintf(&sb, `<p>Item %d <a href="http://evil%d.example/path/page?id=%d">www.paypal.com</a> padding</p>`, i, i%50, i)
	}
	raw := []byte(sb.String())
	i := bytes.Index(raw, []byte("\n\n"))
	if p, _ := Inspect(raw[:i+1], raw[i+2:], all); len(p.Findings) != 1 || p.Findings[0].Count != DefaultMaxLinks || p.Truncated {
		b.Fatalf("findings %+v truncated %v", p.Findings, p.Truncated)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect(raw[:i+1], raw[i+2:], all); err != nil {
			b.Fatal(err)
		}
	}
}
