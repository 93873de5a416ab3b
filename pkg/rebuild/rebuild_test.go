package rebuild

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/mimetree"
	"github.com/qscan/qscan/pkg/sendmail"
)

// enmimeLeaves lists the MIME leaves of raw as pkg/explode numbers them
// (enmime PartIDs, message/rfc822 parts walked again with their path as
// prefix), each with its raw content.
func enmimeLeaves(t *testing.T, raw []byte, prefix string, out map[string][]byte) {
	t.Helper()
	p := enmime.NewParser(enmime.RawContent(true), enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true), enmime.DisableCharacterDetection(true),
		enmime.DisableTextConversion(true))
	root, err := p.ReadParts(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("enmime: %v", err)
	}
	var visit func(*enmime.Part)
	visit = func(n *enmime.Part) {
		if n.FirstChild != nil {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				visit(c)
			}
			return
		}
		id := n.PartID
		if id == "0" {
			id = "1"
		}
		path := join(prefix, id)
		ct := strings.ToLower(n.ContentType)
		if strings.HasPrefix(ct, "multipart/") && len(n.Content) == 0 {
			return // pkg/explode skips empty multiparts
		}
		if (ct == "message/rfc822" || ct == "message/global") && mimetree.IsIdentityCTE(n.Header.Get("Content-Transfer-Encoding")) {
			enmimeLeaves(t, n.Content, path, out)
			return
		}
		out[path] = n.Content
	}
	visit(root)
}

// ourLeaves lists the leaves of our walk with their body bytes.
func ourLeaves(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	header, body := splitMessage(raw)
	tr, err := walk(header, body, Options{}.withDefaults())
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	out := map[string][]byte{}
	for path, n := range tr.Paths {
		if len(n.Kids) == 0 && n.Inner == nil && !n.IsMultipart() {
			out[path] = body[n.BodyStart:n.End]
		}
	}
	return out
}

// TestWalkAgreesWithEnmime checks that our byte ranges name the same parts
// as the MIME library pkg/explode reads, on the golden messages and the
// shared bad-input corpus.
func TestWalkAgreesWithEnmime(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	shared, _ := filepath.Glob("../../testdata/mime/*.eml")
	// Messages whose structure two parsers may read differently by design;
	// pkg/explode reports them and policy quarantines them whole.
	ambiguous := map[string]bool{
		"BI-01-two-boundaries.eml": true, "BI-02-hidden-boundary.eml": true,
		"BI-03-rfc2231-boundary.eml": true, "BI-04-encoded-boundary.eml": true,
		"BI-05-nested-comments.eml": true,
	}
	for _, f := range append(files, shared...) {
		if ambiguous[filepath.Base(f)] {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]byte{}
			enmimeLeaves(t, raw, "", want)
			got := ourLeaves(t, raw)
			if g, w := keys(got), keys(want); g != w {
				t.Fatalf("leaf paths = %s, enmime's = %s", g, w)
			}
			for path, w := range want {
				if g := got[path]; !bytes.Equal(bytes.TrimRight(g, "\r\n"), bytes.TrimRight(w, "\r\n")) {
					t.Errorf("part %s = %q, enmime's %q", path, firstBytes(g), firstBytes(w))
				}
			}
		})
	}
}

func keys(m map[string][]byte) string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	sort.Strings(k)
	return strings.Join(k, " ")
}

func TestRebuildErrors(t *testing.T) {
	mixed := readFile(t, "testdata/mixed-virus.eml")
	deep := nested(60)
	many := manyParts(1200)
	// enmime takes "0--b " at the start of a part for a delimiter: it sees
	// the evil part as 3, where a strict reading has the clean part.
	quirk := []byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nclean A\n--b\n0--b \n" +
		"Content-Type: application/octet-stream\n\nEVIL\n--b\n\nclean C\n--b--\n")
	tests := []struct {
		name string
		raw  []byte
		repl []Replacement
		opt  Options
		want error
	}{
		{"no such part", mixed, []Replacement{{MIMEPath: "7"}}, Options{}, ErrNoPart},
		{"no such subpart", mixed, []Replacement{{MIMEPath: "2.1"}}, Options{}, ErrNoPart},
		{"empty path", mixed, []Replacement{{MIMEPath: ""}}, Options{}, ErrNoPart},
		{"too deep", deep, []Replacement{{MIMEPath: "1"}}, Options{}, ErrTooComplex},
		{"too deep for option", nested(5), []Replacement{{MIMEPath: "1"}}, Options{MaxDepth: 3}, ErrTooComplex},
		{"too many parts", many, []Replacement{{MIMEPath: "1"}}, Options{}, ErrTooComplex},
		{"parsers disagree", quirk, []Replacement{{MIMEPath: "3"}}, Options{}, ErrAmbiguous},
		{"text too large", mixed, []Replacement{{MIMEPath: "2", Text: make([]byte, 70000)}}, Options{}, ErrTooLarge},
		{"warning too large", mixed, nil, Options{InlineWarning: make([]byte, 200), MaxTextBytes: 100}, ErrTooLarge},
	}
	for _, tt := range tests {
		h, b := splitMessage(tt.raw)
		_, err := Rebuild(h, b, tt.repl, tt.opt)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Rebuild error = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Within the limits the same shapes rebuild.
	h, b := splitMessage(nested(40))
	if _, err := Rebuild(h, b, []Replacement{{MIMEPath: strings.Repeat("1.", 39) + "1", Text: []byte("x")}}, Options{}); err != nil {
		t.Errorf("Rebuild(40 levels) = %v", err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nested is a message with n multipart/mixed levels, a text at the bottom.
func nested(n int) []byte {
	var b strings.Builder
	b.WriteString("Subject: deep\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\nContent-Type: text/plain\n\nbottom\n", n-1)
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return []byte(b.String())
}

func manyParts(n int) []byte {
	var b strings.Builder
	b.WriteString("Subject: many\nContent-Type: multipart/mixed; boundary=\"m\"\n\n")
	for i := 0; i < n; i++ {
		b.WriteString("--m\n\nx\n")
	}
	b.WriteString("--m--\n")
	return []byte(b.String())
}

func TestRebuildNothingAsked(t *testing.T) {
	h, b := splitMessage(readFile(t, "testdata/mixed-virus.eml"))
	res, err := Rebuild(h, b, nil, Options{})
	if err != nil || res.Changed || &res.Body[0] != &b[0] || len(res.Set)+len(res.Delete) != 0 {
		t.Errorf("Rebuild(no replacements) = %+v, %v; want the body itself, unchanged", res.Changed, err)
	}
}

// TestApplyToQf applies the header edits of a single-part replacement to a
// real qf and checks the result.
func TestApplyToQf(t *testing.T) {
	h, b := splitMessage(readFile(t, "testdata/single-part.eml"))
	res, err := Rebuild(h, b, []Replacement{{MIMEPath: "1", Text: []byte("removed\n")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sendmail.NewQf("a@example.net", []string{"b@example.org"}, h, sendmail.NewOpts{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ClientIP: netip.MustParseAddr("192.0.2.1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Edit(res.Edits(), false); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "7bit",
		"MIME-Version":              "1.0",
		"Subject":                   "plain",
	} {
		if got, ok := q.Header(name); !ok || got != want {
			t.Errorf("qf header %s = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"Content-Disposition", "Content-Description"} {
		if got, ok := q.Header(name); ok {
			t.Errorf("qf header %s = %q, want deleted", name, got)
		}
	}
	if string(res.Body) != "removed\n" {
		t.Errorf("body = %q, want the replacement text", res.Body)
	}
}

func TestMergedReplacements(t *testing.T) {
	// Two archive members in the same attachment: one part, both texts.
	h, b := splitMessage(readFile(t, "testdata/mixed-virus.eml"))
	res, err := Rebuild(h, b, []Replacement{
		{MIMEPath: "2", Text: []byte("member a.exe: virus X\n")},
		{MIMEPath: "2", Text: []byte("member b.exe: virus Y\n")},
		{MIMEPath: "2", Text: []byte("member b.exe: virus Y\n")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(res.Body), "Content-Disposition: attachment; filename=\"VirusWarning.txt\""); n != 1 {
		t.Errorf("%d replacement parts, want 1", n)
	}
	if !strings.Contains(string(res.Body), "virus X\n\nmember b.exe: virus Y\n") || strings.Count(string(res.Body), "virus Y") != 1 {
		t.Errorf("merged text wrong:\n%s", res.Body)
	}
}

func TestCleanFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"invoice.pdf.exe.txt", "invoice.pdf.exe.txt"},
		{"", "VirusWarning.txt"},
		{"  ", "VirusWarning.txt"},
		{"a\r\nBcc: x.txt", "a__Bcc: x.txt"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"bad\xffutf8", "bad_utf8"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := cleanFilename(tt.in, "VirusWarning.txt"); got != tt.want {
			t.Errorf("cleanFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := formatParam("x", "name", `a"b\c`); got != `x; name="a\"b\\c"` {
		t.Errorf("formatParam quoting = %s", got)
	}
	if got := formatParam("x", "name", "é.txt"); got != `x; name*=utf-8''%C3%A9.txt` {
		t.Errorf("formatParam(non-ASCII) = %s", got)
	}
}

func TestTagSubject(t *testing.T) {
	tests := []struct{ subject, tag, want string }{
		{"invoice", "{Virus?}", "{Virus?} invoice"},
		{"{Virus?} invoice", "{Virus?}", "{Virus?} invoice"},
		{"Re: {Virus?} invoice", "{Virus?}", "Re: {Virus?} invoice"},
		{"{Virus?} invoice", "{Filename?}", "{Filename?} {Virus?} invoice"},
		{"", "{Virus?}", "{Virus?}"},
		{"  spaced", "{Virus?}", "{Virus?} spaced"},
		{"=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "{Virus?}", "{Virus?} =?utf-8?q?Gr=C3=BC=C3=9Fe?="},
		{"invoice", "", "invoice"},
		{"invoice", " {Size} ", "{Size} invoice"},
	}
	for _, tt := range tests {
		if got := TagSubject(tt.subject, tt.tag); got != tt.want {
			t.Errorf("TagSubject(%q, %q) = %q, want %q", tt.subject, tt.tag, got, tt.want)
		}
	}
}

func TestEncodeText(t *testing.T) {
	tests := []struct {
		in, nl, cte, want string
	}{
		{"hello", "\n", "7bit", "hello\n"},
		{"a\r\nb\n", "\n", "7bit", "a\nb\n"},
		{"a\nb", "\r\n", "7bit", "a\r\nb\r\n"},
		{"é=", "\n", "quoted-printable", "=C3=A9=3D\n"},
		{"x\x00y", "\n", "quoted-printable", "x=00y\n"},
		{strings.Repeat("a", 1000), "\n", "quoted-printable", ""},
	}
	for _, tt := range tests {
		cte, out := EncodeText([]byte(tt.in), tt.nl)
		if cte != tt.cte || (tt.want != "" && string(out) != tt.want) {
			t.Errorf("EncodeText(%q, %q) = %s %q, want %s %q", tt.in, tt.nl, cte, out, tt.cte, tt.want)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if len(line) > 998 {
				t.Errorf("EncodeText(%q): line of %d bytes", firstBytes([]byte(tt.in)), len(line))
			}
		}
	}
}
