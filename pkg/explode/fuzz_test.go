package explode

import (
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
