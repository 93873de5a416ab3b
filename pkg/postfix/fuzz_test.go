package postfix

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// FuzzParse: any bytes either fail to parse or give a File that writes
// back the same bytes, whose edited form parses again with the same
// body, and whose header and body reading never panics.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.pf"))
	for _, p := range paths {
		if raw, err := os.ReadFile(p); err == nil {
			f.Add(raw)
		}
	}
	f.Add(pointerFile())
	lim := Limits{MaxFileBytes: 1 << 20, MaxRecordBytes: 64 << 10, MaxRecords: 100000}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pf, err := Parse(bytes.NewReader(raw), lim)
		if err != nil {
			return
		}
		if !bytes.Equal(pf.Bytes(), raw) {
			t.Fatal("unchanged file not written back verbatim")
		}
		_ = pf.Envelope()
		body := pf.Body()
		if err := pf.Edit([]message.HeaderEdit{{Op: message.HeaderAdd, Name: "X-Fuzz", Value: "1"}}); err != nil {
			return
		}
		g, err := Parse(bytes.NewReader(pf.Bytes()), Limits{})
		if err != nil {
			t.Fatalf("edited file does not parse: %v", err)
		}
		if !bytes.Equal(g.Body(), body) {
			t.Fatalf("body changed by a header edit: %q → %q", body, g.Body())
		}
		if g.Pointers() {
			t.Fatal("edited file has pointers")
		}
	})
}
