package explode

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExplode checks that no input makes Explode fail, panic or produce
// inconsistent parts. Seeds: every .eml fixture, plus an archive mail.
func FuzzExplode(f *testing.F) {
	for _, pat := range []string{"testdata/*.eml", "../../testdata/mime/*.eml"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add(mailWith("a.zip", zipOf(f, "in.zip", string(zipOf(f, "x.exe", peStub)))))
	f.Add(mailWith("a.cpio", cpioOf(false, "x.exe", peStub)))
	f.Add(mailWith("a.a", arOf("x.exe", peStub, "a-long-member-name.js", "x")))
	f.Add(attached("Content-Type: application/octet-stream; name=\"f.eml\"\r\n", []byte(forwarded())))
	f.Add(textMail(binhexBomb(1000), uuOf("a.exe", []byte(peStub)), yencOf("b.exe", []byte(peStub))))
	f.Add([]byte("From: a@b\nContent-Transfer-Encoding: base64\n\nQQ==QUJD\n"))
	lim := DefaultLimits()
	lim.MaxExpandedBytes = 8 << 20
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := Explode(raw, lim)
		if err != nil {
			t.Fatalf("Explode: %v", err)
		}
		for i, p := range res.Parts {
			if p.Index != i || p.Parent >= i || (p.Parent < -1) {
				t.Fatalf("part %d inconsistent: index %d parent %d", i, p.Index, p.Parent)
			}
			if p.Data != nil && int64(len(p.Data)) != p.Size {
				t.Fatalf("part %d: size %d, data %d", i, p.Size, len(p.Data))
			}
		}
		for _, r := range res.Reports {
			if r.Part >= len(res.Parts) || r.Part < -1 {
				t.Fatalf("report names part %d of %d", r.Part, len(res.Parts))
			}
		}
	})
}

// FuzzDecoders checks that the text decoders never produce more than the
// room they are given and agree with themselves.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte("QQ==QUJD"), uint16(100))
	f.Add([]byte(binhexBomb(5000)), uint16(1000))
	f.Add([]byte(uuOf("a", []byte(peStub))+yencOf("b", []byte(peStub))), uint16(50))
	f.Add([]byte("begin-base64 644 x\nQUJD\n====\n=41=\n"), uint16(3))
	f.Fuzz(func(t *testing.T, in []byte, room uint16) {
		max := int64(room)
		d := decodeBase64(in, max)
		if int64(len(d.Data)) > max || int64(len(d.Data)+len(d.Alt)) > max {
			t.Fatalf("base64: %d+%d bytes, room %d", len(d.Data), len(d.Alt), max)
		}
		if full := decodeBase64(in, 1<<30); !d.Cut && !bytes.Equal(full.Data, d.Data) {
			t.Fatalf("base64: not cut yet differs from the unbounded decoding")
		}
		if q, _ := decodeQP(in, max); int64(len(q)) > max {
			t.Fatalf("quoted-printable: %d bytes, room %d", len(q), max)
		}
		total := func(files []embedded) (n int64) {
			for _, f := range files {
				n += int64(len(f.Data))
			}
			return n
		}
		uu, _ := findUU(in, 10, max)
		ye, _ := findYEnc(in, 10, max)
		bh, _, _, _ := findBinHex(in, 10, max)
		for what, n := range map[string]int64{"uuencode": total(uu), "yEnc": total(ye), "BinHex": total(bh)} {
			if n > max {
				t.Fatalf("%s: %d bytes, room %d", what, n, max)
			}
		}
	})
}

// FuzzUnixArchives checks that the cpio, ar and rpm readers hand on only
// slices of their input and never panic.
func FuzzUnixArchives(f *testing.F) {
	f.Add(cpioOf(false, "a", "x"))
	f.Add(cpioOf(true, "a", "x"))
	f.Add(arOf("a", "x", "a-long-member-name.js", "yy"))
	f.Add([]byte("\xc7\x71\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, read := range []func([]byte, unixMember) error{readCpio, readAr, readRpm} {
			n := 0
			read(in, func(name string, data []byte) error {
				if n++; len(data) > len(in) {
					t.Fatalf("member %q: %d bytes from %d", name, len(data), len(in))
				}
				return nil
			})
		}
	})
}
