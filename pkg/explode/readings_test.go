package explode

import (
	"bytes"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

// eicarText is the EICAR test string, put together here so that this
// file is not itself a test virus.
var eicarText = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

// withData finds a part whose decoded data holds want.
func withData(res *Result, want []byte) (message.Part, bool) {
	for _, p := range res.Parts {
		if p.DeclaredType != "message/rfc822" && bytes.Contains(p.Data, want) {
			return p, true
		}
	}
	return message.Part{}, false
}

func named(res *Result, name string) (message.Part, bool) {
	for _, p := range res.Parts {
		if p.Filename == name {
			return p, true
		}
	}
	return message.Part{}, false
}

const hdr = "From: a@example.com\nTo: b@example.com\nSubject: x\nMIME-Version: 1.0\n"

// Each way to read an ambiguous entity is exploded: what the reading
// mimetree did not take hides EICAR or a blocked name, and the checks get
// it all the same, under a reading-N part.
func TestEveryReadingExploded(t *testing.T) {
	eicar64 := base64.StdEncoding.EncodeToString([]byte(eicarText))
	tests := []struct {
		name string
		raw  string
		file string // a part named so must be found
		data bool   // a part holding EICAR must be found
	}{
		{"second boundary", hdr + "Content-Type: multipart/mixed; boundary=\"A\"; boundary=\"B\"\n\n" +
			"--A\nContent-Type: text/plain\n\nharmless\n" +
			"--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"evil.exe\"\n\n" + eicarText + "\n--B--\n--A--\n",
			"evil.exe", true},
		{"second encoding", hdr + "Content-Type: multipart/mixed; boundary=A\n\n" +
			"--A\nContent-Type: application/octet-stream; name=\"x.bin\"\nContent-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n\n" +
			eicar64 + "\n--A--\n", "", true},
		{"second content type", hdr + "Content-Type: text/plain\nContent-Type: multipart/mixed; boundary=Z\n\n" +
			"--Z\nContent-Type: application/x-msdownload; name=\"run.scr\"\n\nMZ\n--Z--\n", "run.scr", false},
		{"RFC 2231 boundary", hdr + "Content-Type: multipart/mixed; boundary*0=A; boundary*1=B\n\n" +
			"--AB\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"joined.exe\"\n\nMZ\n--AB--\n", "joined.exe", false},
		{"encoded-word boundary", hdr + "Content-Type: multipart/mixed; boundary=\"=?utf-8?q?Q?=\"\n\n" +
			"--=?utf-8?q?Q?=\nContent-Type: text/plain\n\nharmless\n--=?utf-8?q?Q?=--\n" +
			"--Q\nContent-Type: application/octet-stream; name=\"decoded.exe\"\n\nMZ\n--Q--\n", "decoded.exe", false},
		{"nested part", hdr + "Content-Type: multipart/mixed; boundary=T\n\n--T\nContent-Type: text/plain\n\nhi\n" +
			"--T\nContent-Type: multipart/related; boundary=\"A\"; boundary=\"B\"\n\n--A\nContent-Type: text/plain\n\nx\n" +
			"--B\nContent-Type: application/octet-stream; name=\"deep.exe\"\n\n" + eicarText + "\n--B--\n--A--\n--T--\n",
			"deep.exe", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := explodeFile(t, []byte(tt.raw), DefaultLimits())
			if _, ok := hasReport(res, TextAmbiguous); !ok {
				t.Errorf("no %q report\n%s", TextAmbiguous, dump(res))
			}
			if tt.file != "" {
				p, ok := named(res, tt.file)
				if !ok {
					t.Fatalf("no part named %q\n%s", tt.file, dump(res))
				}
				if !strings.Contains(p.Path, "reading-") {
					t.Errorf("%s found at %q, not under a reading", tt.file, p.Path)
				}
			}
			if tt.data {
				if _, ok := withData(res, []byte(eicarText)); !ok {
					t.Errorf("no part holds EICAR\n%s", dump(res))
				}
			}
		})
	}
}

// Without a reading, what the second reading hides is not seen: the test
// above checks what readings add.
func TestFirstReadingAloneMissesIt(t *testing.T) {
	lim := DefaultLimits()
	raw := hdr + "Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: application/octet-stream; name=\"x.bin\"\n" +
		"Content-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(eicarText)) + "\n--A--\n"
	res := explodeFile(t, []byte(raw), lim)
	p, ok := withData(res, []byte(eicarText))
	if !ok || !strings.Contains(p.Path, "reading-1") {
		t.Fatalf("EICAR found only by the second reading expected, got %v %q\n%s", ok, p.Path, dump(res))
	}
}

// The fixtures of ambiguous structures: every one has the attachment
// found under some reading.
func TestAmbiguousFixturesEveryReading(t *testing.T) {
	for name, file := range map[string]string{
		"BI-01-two-boundaries": "evil.exe", "BI-03-rfc2231-boundary": "evil.exe",
		"BI-04-encoded-boundary": "evil.exe", "BI-05-nested-comments": "evil.exe",
	} {
		raw, err := os.ReadFile("../../testdata/mime/" + name + ".eml")
		if err != nil {
			t.Fatal(err)
		}
		res := explodeFile(t, raw, DefaultLimits())
		if _, ok := named(res, file); !ok {
			t.Errorf("%s: no part named %s\n%s", name, file, dump(res))
		}
	}
	raw, err := os.ReadFile("../../testdata/mime/BI-08-conflicting-cte.eml")
	if err != nil {
		t.Fatal(err)
	}
	res := explodeFile(t, raw, DefaultLimits())
	n := 0
	for _, p := range res.Parts {
		if bytes.HasPrefix(p.Data, []byte("MZ")) {
			n++
		}
	}
	if n == 0 {
		t.Errorf("BI-08: no reading decodes the base64 PE\n%s", dump(res))
	}
}

// A clean unambiguous message gets no reading.
func TestNoReadingWithoutAmbiguity(t *testing.T) {
	raw := hdr + "Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: text/plain\n\nhi\n--A--\n"
	res := explodeFile(t, []byte(raw), DefaultLimits())
	for _, p := range res.Parts {
		if strings.Contains(p.Path, "reading-") {
			t.Errorf("unexpected reading %q\n%s", p.Path, dump(res))
		}
	}
}

// manyBoundaries has n boundary parameters, the n-th hiding a file.
func manyBoundaries(n int) []byte {
	var ct, body strings.Builder
	ct.WriteString("Content-Type: multipart/mixed")
	for i := range n {
		ct.WriteString("; boundary=\"B" + string(rune('a'+i)) + "\"")
	}
	last := "B" + string(rune('a'+n-1))
	body.WriteString("--" + last + "\nContent-Type: application/octet-stream; name=\"last.exe\"\n\nMZ\n--" + last + "--\n")
	return []byte(hdr + ct.String() + "\n\n" + body.String())
}

// MaxMIMEReadings both sides: n-1 other readings fit, n-2 do not.
func TestMaxMIMEReadings(t *testing.T) {
	raw := manyBoundaries(5) // the first boundary is mimetree's; 4 others
	lim := DefaultLimits()
	lim.MaxMIMEReadings = 4
	res := explodeFile(t, raw, lim)
	if _, ok := named(res, "last.exe"); !ok {
		t.Errorf("4 readings allowed: last.exe not found\n%s", dump(res))
	}
	if r, ok := hasReport(res, TextReadings); ok {
		t.Errorf("4 readings allowed: %q", r.Text)
	}
	lim.MaxMIMEReadings = 3
	res = explodeFile(t, raw, lim)
	r, ok := hasReport(res, TextReadings)
	if !ok || r.Action != message.ActionQuarantine {
		t.Errorf("3 readings allowed: no %q report holding the message\n%s", TextReadings, dump(res))
	}
}

// Readings draw their bytes from the expansion budget.
func TestReadingsSpendBudget(t *testing.T) {
	raw := manyBoundaries(3)
	lim := DefaultLimits()
	lim.MaxExpandedBytes = int64(len(raw)) // room for one reading, not two
	res := explodeFile(t, raw, lim)
	if _, ok := hasReport(res, TextExpandLimit); !ok {
		t.Errorf("no %q report\n%s", TextExpandLimit, dump(res))
	}
	if res.Stats.ExpandedBytes > lim.MaxExpandedBytes+int64(len(raw)) {
		t.Errorf("expanded %d bytes, budget %d", res.Stats.ExpandedBytes, lim.MaxExpandedBytes)
	}
	lim.MaxExpandedBytes = 10 * int64(len(raw))
	res = explodeFile(t, raw, lim)
	if _, ok := hasReport(res, TextExpandLimit); ok {
		t.Errorf("budget 10x: unexpected %q\n%s", TextExpandLimit, dump(res))
	}
	if res.Stats.ExpandedBytes < int64(len(raw)) {
		t.Errorf("readings spent %d bytes, want at least %d", res.Stats.ExpandedBytes, len(raw))
	}
}

// FuzzReadings checks the enumeration: bounded, no reading equal to the
// primary one, every boundary usable, and the rewritten message parses.
func FuzzReadings(f *testing.F) {
	f.Add(`multipart/mixed; boundary="A"; boundary="B"`, "text/plain", "base64", "7bit", "A")
	f.Add(`multipart/mixed; boundary*0=A; boundary*1*=%42; boundary*0=C`, "", "", "", "")
	f.Add(`multipart/mixed; boundary((c))="A"; x:y=1`, `multipart/alternative; boundary="=?utf-8?q?Q?="`, "", "quoted-printable", "Q")
	f.Fuzz(func(t *testing.T, ct1, ct2, cte1, cte2, lib string) {
		h := "Content-Type: " + ct1 + "\nContent-Type: " + ct2 + "\nContent-Transfer-Encoding: " + cte1 +
			"\nContent-Transfer-Encoding: " + cte2 + "\n"
		fields := mimeFields(h)
		primary := reading{ctype: ct1, cte: cte1}
		got := readingsOf(fields, true, primary, lib, 8)
		if len(got) > 9 {
			t.Fatalf("%d readings, max 8+1", len(got))
		}
		for _, r := range got {
			if r.same(primary) {
				t.Fatalf("reading %+v is the primary one", r)
			}
			if r.multi && !okBoundary(r.boundary) {
				t.Fatalf("reading with boundary %q", r.boundary)
			}
			alt := rewrite([]byte(h+"\n"), r, []byte("body\n"))
			if _, err := Explode(alt, DefaultLimits()); err != nil {
				t.Fatalf("Explode of reading %+v: %v", r, err)
			}
		}
	})
}

func mimeFields(h string) []mimetree.Field {
	b := []byte(h)
	return mimetree.Fields(b, 0, len(b))
}
