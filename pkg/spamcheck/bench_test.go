package spamcheck

import (
	"context"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// BenchmarkCheckCached measures a check answered from the cache: hashing
// the head of a 100 KiB message and assembling the result.
func BenchmarkCheckCached(b *testing.B) {
	f := newFixture(b, Options{}, Engines{Spamd: spamdScore(3, spamd.Rule{Name: "A", Score: 3})})
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", 1600)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := f.Check(ctx, testMessage("id", body)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeaders measures the header edits of a spam message.
func BenchmarkHeaders(b *testing.B) {
	f := newFixture(b, Options{}, Engines{Spamd: spamdScore(7, spamd.Rule{Name: "A", Score: 3}, spamd.Rule{Name: "B", Score: 4})})
	m := testMessage("id", "x\n")
	if err := f.Check(context.Background(), m); err != nil {
		b.Fatal(err)
	}
	opts := DefaultHeaderOptions()
	for b.Loop() {
		edits, err := Headers(m.Spam, m.Header, "Example", opts)
		if err != nil {
			b.Fatal(err)
		}
		message.EditHeader(m.Header, edits)
	}
}
