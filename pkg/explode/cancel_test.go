package explode

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// cancelAfter is a context that ends at the n-th time it is asked: a
// check's time limit running out in the middle of the work, at a point
// the test chooses rather than a clock.
type cancelAfter struct {
	context.Context
	mu    sync.Mutex
	left  int
	done  chan struct{}
	asked int // times asked after it ended
}

func newCancelAfter(n int) *cancelAfter {
	return &cancelAfter{Context: context.Background(), left: n, done: make(chan struct{})}
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left > 0 {
		c.left--
		if c.left == 0 {
			close(c.done)
		}
		return nil
	}
	c.asked++
	return context.DeadlineExceeded
}

func (c *cancelAfter) Done() <-chan struct{}                   { return c.done }
func (c *cancelAfter) Deadline() (deadline time.Time, ok bool) { return time.Time{}, false }

// TestExplodeStopsWhenCancelled: a message that would take long (many
// MIME parts, an archive of many members, a text full of encoded files,
// archives inside each of many parts) stops being exploded soon after its
// context ends: Explode returns the context's error and the parts found
// by then, a small share of the whole.
func TestExplodeStopsWhenCancelled(t *testing.T) {
	const n = 300
	var parts, members, uu, zips []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("part %d", i))
		members = append(members, fmt.Sprintf("m%03d.txt", i), fmt.Sprintf("member %d", i))
		uu = append(uu, uuOf(fmt.Sprintf("f%03d.bin", i), []byte(fmt.Sprintf("file %d", i))))
	}
	for range n / 10 {
		zips = append(zips, string(zipOf(t, members[:40]...)))
	}
	cases := []struct {
		name string
		raw  []byte
		all  int // parts when not cancelled, at least
	}{
		{"MIME parts", textMail(parts...), n},
		{"archive members", mailWith("many.zip", zipOf(t, members...)), n},
		{"encoded files in a text", textMail(strings.Join(uu[:maxEmbedded], "\n")), maxEmbedded},
		{"archives in many parts", multiZipMail(zips), n / 10 * 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full, err := Explode(c.raw, Limits{})
			if err != nil || len(full.Parts) < c.all {
				t.Fatalf("Explode = %d parts, %v; want at least %d", len(full.Parts), err, c.all)
			}
			ctx := newCancelAfter(10)
			res, err := ExplodeContext(ctx, c.raw, Limits{})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("ExplodeContext after the context ended: err = %v, want it to wrap %v", err, context.DeadlineExceeded)
			}
			if res == nil || len(res.Parts) > len(full.Parts)/4 {
				got := -1
				if res != nil {
					got = len(res.Parts)
				}
				t.Errorf("ExplodeContext went on after the context ended: %d of %d parts", got, len(full.Parts))
			}
		})
	}
}

// multiZipMail attaches each zip as a part of its own.
func multiZipMail(zips []string) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n")
	for i, z := range zips {
		fmt.Fprintf(&b, "--b\nContent-Type: application/zip; name=\"a%d.zip\"\nContent-Transfer-Encoding: base64\n\n", i)
		enc := base64.StdEncoding.EncodeToString([]byte(z))
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\n")
	}
	b.WriteString("--b--\n")
	return []byte(b.String())
}

// TestExplodeStageHonoursContext: the pipeline stage passes its context
// on, and says why it stopped.
func TestExplodeStageHonoursContext(t *testing.T) {
	raw := textMail("a", "b", "c")
	i := strings.Index(string(raw), "\n\n")
	m := &message.Message{ID: "t", Header: raw[:i+1], Body: raw[i+2:]}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Stage{}).Check(ctx, m); !errors.Is(err, context.Canceled) {
		t.Errorf("Stage.Check with an ended context = %v, want it to wrap %v", err, context.Canceled)
	}
}
