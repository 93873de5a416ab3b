package spamd

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseResponse feeds arbitrary bytes to the response parser: it must
// never panic, never return more than the body limit, and only return
// finite scores and well-formed rule names.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.resp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
		f.Add(b, uint8(2))
	}
	f.Add([]byte("SPAMD/1.0 76 Bad header line\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		cmd := []Command{Check, Symbols, Report}[int(c)%3]
		const maxBody = 4096
		res, err := ParseResponse(bufio.NewReader(bytes.NewReader(data)), cmd, maxBody)
		if err != nil {
			return
		}
		for _, s := range []float64{res.Score, res.Required} {
			if math.IsNaN(s) || math.IsInf(s, 0) {
				t.Fatalf("non-finite score %v", s)
			}
		}
		if len(res.Report) > maxBody {
			t.Fatalf("report of %d bytes over the limit", len(res.Report))
		}
		for _, r := range res.Rules {
			if !validRuleName(r.Name) || math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
				t.Fatalf("bad rule %+v", r)
			}
		}
	})
}

// FuzzParseReport checks the report-table parser on arbitrary text.
func FuzzParseReport(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "report_gtube.resp"))
	f.Add(string(b))
	f.Add("----\n 1.0 A x\n  more\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range ParseReport(s) {
			if !validRuleName(r.Name) {
				t.Fatalf("bad rule name %q", r.Name)
			}
		}
	})
}

func BenchmarkParseReport(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "report_gtube.resp"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseResponse(bufio.NewReader(bytes.NewReader(data)), Report, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseTell feeds arbitrary bytes to the TELL answer parser: it must
// never panic, and say learned only for an EX_OK answer.
func FuzzParseTell(f *testing.F) {
	f.Add([]byte("SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n"))
	f.Add([]byte("SPAMD/1.1 0 EX_OK\r\n\r\n"))
	f.Add([]byte("SPAMD/1.0 69 TELL commands are not enabled\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		learned, err := ParseTell(bufio.NewReader(bytes.NewReader(data)))
		if err != nil && learned {
			t.Fatal("learned with an error")
		}
		if learned && !bytes.HasPrefix(data, []byte("SPAMD/")) {
			t.Fatalf("learned from %q", data)
		}
	})
}
