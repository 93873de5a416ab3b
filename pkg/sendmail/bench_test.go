package sendmail

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkParseQf(b *testing.B) {
	in, err := os.ReadFile("testdata/longhdr.qf")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseQf(bytes.NewReader(in), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEditAndWrite(b *testing.B) {
	in, err := os.ReadFile("testdata/multi.qf")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		q, _ := ParseQf(bytes.NewReader(in), Limits{})
		_ = q.AddHeader("X-Qscan", "clean")
		_ = q.ReplaceHeader("Subject", "{Scanned} three recipients")
		_ = q.Bytes()
	}
}
