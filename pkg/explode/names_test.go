package explode

import (
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// names returns Filename and AltNames of part 2 of a two-part message
// whose second part has header hdr.
func partTwoNames(t *testing.T, hdr string) []string {
	t.Helper()
	raw := []byte("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nhello\n--b\n" + hdr + "\n\nvar x = 1;\n--b--\n")
	res, err := Explode(raw, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := findPart(res, "2")
	if !ok {
		t.Fatalf("no part 2\n%s", dump(res))
	}
	return append([]string{p.Filename}, p.AltNames...)
}

// Every name a client may use reaches the checks, not only the one the
// MIME library picks.
func TestPartNamesAll(t *testing.T) {
	tests := []struct {
		hdr  string
		want []string
	}{
		{"Content-Type: text/plain; name=\"invoice.js\"\nContent-Disposition: attachment; filename=\"invoice.txt\"",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"invoice.txt\"\nContent-Disposition: attachment; filename=\"invoice.js\"",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"invoice.txt\"; filename=\"invoice.js\"",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"invoice.txt\"; filename*=UTF-8''invoice%2Ejs",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"invoice.txt\"; filename*0=\"inv\"; filename*1*=oice%2E; filename*2=js",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain; name=\"=?UTF-8?B?aW52b2ljZS5qcw==?=\"\nContent-Disposition: attachment; filename=\"invoice.txt\"",
			[]string{"invoice.js", "invoice.txt"}},
		{"Content-Type: text/plain; name*=iso-8859-1''r%E9sum%E9.hta\nContent-Disposition: attachment; filename=\"cv.txt\"",
			[]string{"résumé.hta", "cv.txt"}},
	}
	for _, tt := range tests {
		got := partTwoNames(t, tt.hdr)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("part header %q: names %q, want %q among them", tt.hdr, got, w)
			}
		}
	}
}

// A part with more names than any client shows is reported.
func TestPartNamesBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: text/plain")
	for i := range maxPartNames + 5 {
		b.WriteString("\nContent-Disposition: attachment; filename=\"f" + strings.Repeat("x", i) + ".txt\"")
	}
	raw := []byte("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" +
		b.String() + "\n\ndata\n--b--\n")
	res, err := Explode(raw, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := findPart(res, "1")
	if len(p.AltNames) >= maxPartNames+1 {
		t.Errorf("part keeps %d names, want at most %d", 1+len(p.AltNames), maxPartNames)
	}
	found := false
	for _, r := range res.Reports {
		found = found || r.Name == "part-names" && r.Action == message.ActionReplace
	}
	if !found {
		t.Errorf("no part-names report: %+v", res.Reports)
	}
}
