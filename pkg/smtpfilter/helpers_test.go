package smtpfilter

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/spool"
)

type seqGen struct {
	mu sync.Mutex
	n  int
}

func (g *seqGen) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return fmt.Sprintf("Q%05d", g.n)
}

// start runs a filter on loopback with a fresh spool; mod adjusts the
// options first.
func start(t *testing.T, mod func(*Options)) (*Server, spool.Spool) {
	t.Helper()
	sp, err := spool.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	o := Options{Listen: []string{"127.0.0.1:0"}, Spool: sp, IDs: &seqGen{}, Log: log,
		Clock: func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, sp
}

func addr(s *Server) string { return s.Addrs()[0].String() }

// raw is a line-level client for what go-smtp's client cannot send.
type raw struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Reader
}

func dialRaw(t *testing.T, network, a string) *raw {
	t.Helper()
	c, err := net.Dial(network, a)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, tp: textproto.NewReader(bufio.NewReader(c))}
}

func (r *raw) send(lines ...string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, strings.Join(lines, "\r\n")+"\r\n"); err != nil {
		r.t.Fatal(err)
	}
}

// reply reads one (multi-line) reply and returns its lines joined by "\n",
// each with its code.
func (r *raw) reply() string {
	r.t.Helper()
	var lines []string
	for {
		l, err := r.tp.ReadLine()
		if err != nil {
			r.t.Fatalf("reading reply after %q: %v", lines, err)
		}
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

func (r *raw) expect(prefix string) string {
	r.t.Helper()
	got := r.reply()
	if !strings.HasPrefix(got, prefix) {
		r.t.Fatalf("reply %q, want %q...", got, prefix)
	}
	return got
}

// only returns the one entry of the spool with its envelope and message.
func only(t *testing.T, sp spool.Spool) (spool.Entry, *spool.Envelope, string) {
	t.Helper()
	es, err := sp.List()
	if err != nil || len(es) != 1 {
		t.Fatalf("spool has %d entries (%v), want 1", len(es), err)
	}
	l, err := es[0].Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	env, err := l.Envelope(spool.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := l.Message()
	b, _ := io.ReadAll(m)
	return es[0], env, string(b)
}

// empty fails unless the spool directory holds no file at all.
func empty(t *testing.T, sp spool.Spool) {
	t.Helper()
	des, err := os.ReadDir(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 0 {
		var names []string
		for _, d := range des {
			names = append(names, d.Name())
		}
		t.Fatalf("spool holds %v, want nothing", names)
	}
}
