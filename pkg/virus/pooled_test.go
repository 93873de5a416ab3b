package virus

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/pool"
)

// downScanner fails every scan after reading part of the content, as a
// clamd that dies mid-stream; upScanner finds EICAR.
type downScanner struct{}

func (downScanner) Scan(_ context.Context, r io.Reader) (Result, error) {
	io.CopyN(io.Discard, r, 10)
	return Result{}, errors.New("connection reset by peer")
}

type upScanner struct{ seen []string }

func (u *upScanner) Scan(_ context.Context, r io.Reader) (Result, error) {
	b, _ := io.ReadAll(r)
	u.seen = append(u.seen, string(b))
	if strings.Contains(string(b), "EICAR") {
		return Result{Findings: []Finding{{Name: "Eicar-Test-Signature"}}}, nil
	}
	return Result{}, nil
}

// TestPooledRescansWholeContent: after a server fails mid-stream, the next
// one gets the whole content again (from where the reader was) and its
// verdict is the scan's.
func TestPooledRescansWholeContent(t *testing.T) {
	up := &upScanner{}
	p := NewPooled([]pool.Member[Scanner]{{Name: "dead", Server: downScanner{}}, {Name: "live", Server: up}}, nil, nil)
	defer p.Close()
	content := "prefix|X5O!P%@AP EICAR test content"
	r := strings.NewReader(content)
	r.Seek(7, io.SeekStart)
	res, err := p.Scan(context.Background(), r)
	if err != nil || !res.Infected() {
		t.Fatalf("Scan = %+v, %v; want infected from the live server", res, err)
	}
	if len(up.seen) != 1 || up.seen[0] != content[7:] {
		t.Errorf("live server got %q, want %q", up.seen, content[7:])
	}
	// A reader that cannot seek is buffered and scanned all the same.
	res, err = p.Scan(context.Background(), io.MultiReader(strings.NewReader("EICAR")))
	if err != nil || !res.Infected() {
		t.Errorf("Scan of a plain reader = %+v, %v", res, err)
	}
}

// TestPooledAllDown: the scan fails (the message is held) only when every
// server failed.
func TestPooledAllDown(t *testing.T) {
	p := NewPooled([]pool.Member[Scanner]{{Name: "a", Server: downScanner{}}, {Name: "b", Server: downScanner{}}}, nil, nil)
	defer p.Close()
	if _, err := p.Scan(context.Background(), strings.NewReader("x")); err == nil {
		t.Fatal("Scan with every server down = nil error, want one")
	}
}
