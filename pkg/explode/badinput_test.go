package explode

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// wantVerdict is the expected outcome of a bad input: report text
// prefixes that must be present, and file names that must be found.
type wantVerdict struct {
	reports []string
	files   []string
	none    bool // no report at all
}

func checkVerdict(t *testing.T, name string, raw []byte, want wantVerdict) {
	t.Helper()
	start := time.Now()
	res, err := Explode(raw, DefaultLimits())
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s: Explode: %v", name, err)
	}
	t.Logf("%s: %d bytes in %v", name, len(raw), took)
	for _, w := range want.reports {
		if _, ok := hasReport(res, w); !ok {
			t.Errorf("%s: no report %q in\n%s", name, w, dump(res))
		}
	}
	for _, f := range want.files {
		found := false
		for _, p := range res.Parts {
			found = found || p.Filename == f
		}
		if !found {
			t.Errorf("%s: no part named %q in\n%s", name, f, dump(res))
		}
	}
	if want.none && len(res.Reports) > 0 {
		t.Errorf("%s: unexpected reports\n%s", name, dump(res))
	}
}

var fixtureVerdicts = map[string]wantVerdict{
	"BI-01-two-boundaries":      {reports: []string{TextAmbiguous}},
	"BI-02-hidden-boundary":     {reports: []string{TextAmbiguous}},
	"BI-03-rfc2231-boundary":    {reports: []string{TextAmbiguous}},
	"BI-04-encoded-boundary":    {reports: []string{TextAmbiguous}},
	"BI-05-nested-comments":     {reports: []string{TextAmbiguous}},
	"BI-06-rfc2231-filename":    {files: []string{"invöice.exe", "only-name.scr"}},
	"BI-08-conflicting-cte":     {reports: []string{TextAmbiguous}},
	"BI-09-nested-rfc822-small": {files: []string{"deep.exe"}, none: true},
	"BI-13-missing-close":       {files: []string{"evil.exe"}},
	"BI-14-partial-external":    {none: true},
	"BI-24-hidden-extensions":   {files: []string{"invoice.pdf.exe", "doc.pdf            .exe", "x.{0AFACED1-E828-11D1-9187-B532F1E9575D}"}},
	"BI-25-rtlo-zero-width":     {files: []string{"invoice\u202efdp.exe", "pay\u200bment.pdf"}},
	"BI-26-jpg-is-pe":           {files: []string{"holiday.jpg"}},
	"BI-29-uuencode-binhex":     {files: []string{"tool.exe"}},
	"BI-32-duplicate-headers":   {reports: []string{TextDuplicate + ": From", TextDuplicate + ": Subject"}},
}

func TestBadInputFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/mime/BI-*.eml")
	if len(files) < len(fixtureVerdicts) {
		t.Fatalf("found %d fixtures, want %d", len(files), len(fixtureVerdicts))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		want, ok := fixtureVerdicts[name]
		if !ok {
			t.Errorf("fixture %s has no expected verdict", name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkVerdict(t, name, raw, want)
	}
}

func TestJPGIsPEDetected(t *testing.T) {
	raw, _ := os.ReadFile("../../testdata/mime/BI-26-jpg-is-pe.eml")
	res := explodeFile(t, raw, DefaultLimits())
	if len(res.Parts) != 1 || res.Parts[0].DetectedType != "application/vnd.microsoft.portable-executable" {
		t.Errorf("parts = %s", dump(res))
	}
}

// Generated bad inputs: too big to commit.
func TestBadInputsGenerated(t *testing.T) {
	hdr := "From: a@example.com\nSubject: x\nMIME-Version: 1.0\n"
	var nested, rfc822, many, unclosed, headers bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&nested, "Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\n", i, i)
	}
	nested.WriteString("\nx\n")
	for i := 199; i >= 0; i-- {
		fmt.Fprintf(&nested, "--B%d--\n", i)
	}
	for range 10000 {
		rfc822.WriteString("Content-Type: message/rfc822\n\n")
	}
	rfc822.WriteString("\nbody\n")
	many.WriteString(hdr + "Content-Type: multipart/mixed; boundary=A\n\n")
	for range 1000000 {
		many.WriteString("--A\n\nx\n")
	}
	many.WriteString("--A--\n")
	for i := range 40 {
		fmt.Fprintf(&unclosed, "Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\n", i, i)
	}
	headers.WriteString(hdr + "Content-Type: multipart/mixed; boundary=A\n\n--A\n")
	for i := range 100000 {
		fmt.Fprintf(&headers, "X-H%d: v\n", i)
	}
	headers.WriteString("\nx\n--A--\n")
	tests := []struct {
		name string
		raw  []byte
		want wantVerdict
	}{
		{"BI-05-unclosed-paren", []byte(hdr + "Content-Type: multipart/mixed; boundary=" + strings.Repeat("(", 100000) + "\n\n--A\n\nx\n--A--\n"), wantVerdict{}},
		{"BI-07-encoded-words", []byte(hdr + "Subject: " + strings.Repeat("=?", 400000) + "\nContent-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: application/octet-stream; name=\"" + strings.Repeat("=?utf-8?q?a?=", 30000) + "\"\n\nx\n--A--\n"), wantVerdict{}},
		{"BI-09-rfc822-10k", rfc822.Bytes(), wantVerdict{reports: []string{TextMIMEDepth}}},
		{"BI-10-multipart-200", nested.Bytes(), wantVerdict{reports: []string{TextMIMEDepth}}},
		{"BI-11-million-parts", many.Bytes(), wantVerdict{reports: []string{TextMIMEParts}}},
		{"BI-12-huge-header", []byte(hdr + "X-Long: " + strings.Repeat("a", 2<<20) + "\n\nbody\n"), wantVerdict{reports: []string{TextHeaderSize}}},
		{"BI-12-huge-part-header", []byte(hdr + "Content-Type: multipart/mixed; boundary=A\n\n--A\nX: " + strings.Repeat("a", 2<<20) + "\n\nx\n--A--\n"), wantVerdict{reports: []string{TextHeaderSize}}},
		{"BI-12-100k-part-headers", headers.Bytes(), wantVerdict{reports: []string{TextHeaderSize}}},
		{"BI-12-no-colon", []byte("From: a\nthis line has no colon\nSubject: x\n\nbody\n"), wantVerdict{}},
		{"BI-13-unclosed-nesting", unclosed.Bytes(), wantVerdict{reports: []string{TextMalformed}}},
		{"BI-20-truncated-eocd", mailWith("t.zip", []byte("PK\x05\x06\x00\x00")), wantVerdict{}},
		{"BI-22-bogus-7z", mailWith("b.7z", append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), bytes.Repeat([]byte{0xff}, 64)...)), wantVerdict{reports: []string{TextUnreadable}}},
	}
	for _, tt := range tests {
		checkVerdict(t, tt.name, tt.raw, tt.want)
	}
}

func TestMacroDocument(t *testing.T) {
	docm := zipOf(t, "[Content_Types].xml", "<Types/>", "word/document.xml", "<w/>", "word/vbaProject.bin", "\xd0\xcf\x11\xe0")
	res := explodeFile(t, mailWith("report.docx", docm), DefaultLimits())
	r, ok := hasReport(res, TextMacros)
	if !ok || r.Action != message.ActionNone {
		t.Errorf("no macro report with ActionNone in\n%s", dump(res))
	}
}
