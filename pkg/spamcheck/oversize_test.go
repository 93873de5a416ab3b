package spamcheck

import (
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// TestOversize: a message over MaxSize is checked on its first MaxSize
// bytes by default, and not checked at all with SkipOversize; a message
// at the limit is checked either way.
func TestOversize(t *testing.T) {
	body := strings.Repeat("spam line\n", 200) // 2000 bytes
	mk := func(id string, n int) *message.Message {
		h := []byte("From: a@example.org\nSubject: x\n")
		b := []byte(body[:n])
		return &message.Message{ID: id, Header: h, Body: b, Size: int64(len(h) + 1 + len(b))}
	}
	const limit = 1024
	for _, skip := range []bool{false, true} {
		sd := spamdScore(7)
		f := newFixture(t, Options{MaxSize: limit, SkipOversize: skip}, Engines{Spamd: sd})
		big := f.check(t, mk("BIG", 2000))
		if skip && (sd.count() != 0 || !strings.Contains(big.Unchecked, "too large") || big.Level.IsSpam()) {
			t.Errorf("skip: spamd asked %d times, result %+v", sd.count(), big)
		}
		if !skip && (sd.count() != 1 || len(sd.sent[0]) > limit || !big.Level.IsSpam()) {
			t.Errorf("truncate: spamd asked %d times, result %+v", sd.count(), big)
		}
		calls := sd.count()
		at := mk("AT", limit-32) // header 31 bytes + blank line: exactly the limit
		if at.Size != limit {
			t.Fatalf("test message of %d bytes, want %d", at.Size, limit)
		}
		if r := f.check(t, at); sd.count() != calls+1 || !r.Level.IsSpam() {
			t.Errorf("skip=%v: a message at the limit was not checked: %+v", skip, r)
		}
	}
}
