package htmlsafe

import (
	"bytes"
	"os"
	"testing"
)

func splitMsg(t *testing.T, name string) (h, b []byte) {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("\n\n"))
	return raw[:i+1], raw[i+2:]
}

func TestQuick(t *testing.T) {
	h, b := splitMsg(t, "testdata/five.eml")
	p, err := Inspect(h, b, Options{IFrame: Disarm, Form: Disarm, Script: Disarm, ObjectCodebase: Disarm, WebBugs: true, Phishing: true, Numeric: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Findings {
		t.Logf("%+v", f)
	}
	for _, e := range p.Edits {
		t.Logf("%s:\n%s", e.Path, e.With)
	}
}
