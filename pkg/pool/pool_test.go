package pool

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server is a fake engine server: it fails while down, and counts calls.
type server struct {
	name  string
	down  atomic.Bool
	calls atomic.Int64
	// block, when set, holds each request until it is closed.
	block chan struct{}
}

var errDown = errors.New("connection refused")

func (s *server) serve() error {
	s.calls.Add(1)
	if s.block != nil {
		<-s.block
	}
	if s.down.Load() {
		return errDown
	}
	return nil
}

func newPool(servers ...*server) *Pool[*server] {
	var ms []Member[*server]
	for _, s := range servers {
		ms = append(ms, Member[*server]{Name: s.name, Server: s})
	}
	return New(ms, Options[*server]{
		Probe: func(_ context.Context, s *server) error {
			if s.down.Load() {
				return errDown
			}
			return nil
		},
		ProbeEvery: time.Millisecond,
	})
}

func call(s *server) error { return s.serve() }

// TestFailover: a request that fails on one server is served by the next,
// the failed one is taken out (no further requests) and the caller sees
// no error.
func TestFailover(t *testing.T) {
	a, b := &server{name: "a"}, &server{name: "b"}
	a.down.Store(true)
	p := newPool(a, b)
	defer p.Close()
	for range 10 {
		if err := p.Do(context.Background(), call); err != nil {
			t.Fatalf("Do with one server down = %v, want nil", err)
		}
	}
	if a.calls.Load() != 1 {
		t.Errorf("server a (down) had %d requests, want 1: taken out after its failure", a.calls.Load())
	}
	if b.calls.Load() != 10 {
		t.Errorf("server b had %d requests, want 10", b.calls.Load())
	}
	st := p.Status()
	if st[0].Up || !st[1].Up || !errors.Is(st[0].LastError, errDown) {
		t.Errorf("status = %+v, want a down with its error, b up", st)
	}
}

// TestAllDown: only when every server failed does Do fail, naming each.
func TestAllDown(t *testing.T) {
	a, b := &server{name: "a"}, &server{name: "b"}
	a.down.Store(true)
	b.down.Store(true)
	p := newPool(a, b)
	defer p.Close()
	err := p.Do(context.Background(), call)
	if !errors.Is(err, errDown) {
		t.Fatalf("Do with all down = %v, want errDown", err)
	}
	for _, name := range []string{"a:", "b:"} {
		if !contains(err.Error(), name) {
			t.Errorf("error %q does not name server %s", err, name)
		}
	}
	// Taken out, they are still tried when nothing else is left.
	b.down.Store(false)
	if err := p.Do(context.Background(), call); err != nil {
		t.Errorf("Do once b is back = %v, want nil", err)
	}
}

// TestProbePutsBack: a server taken out is probed and used again once it
// answers.
func TestProbePutsBack(t *testing.T) {
	a, b := &server{name: "a"}, &server{name: "b"}
	var mu sync.Mutex
	var events []string
	a.down.Store(true)
	p := New([]Member[*server]{{"a", a}, {"b", b}}, Options[*server]{
		Probe: func(_ context.Context, s *server) error {
			return map[bool]error{true: errDown, false: nil}[s.down.Load()]
		},
		ProbeEvery: time.Millisecond,
		OnChange: func(name string, up bool, _ error) {
			mu.Lock()
			events = append(events, name+map[bool]string{true: " up", false: " down"}[up])
			mu.Unlock()
		},
	})
	defer p.Close()
	p.Do(context.Background(), call)
	if p.Status()[0].Up {
		t.Fatal("a not taken out")
	}
	a.down.Store(false)
	for !p.Status()[0].Up {
		time.Sleep(time.Millisecond) // the probe's ticker; no assertion on how long
	}
	mu.Lock()
	got := append([]string(nil), events...)
	mu.Unlock()
	if len(got) != 2 || got[0] != "a down" || got[1] != "a up" {
		t.Errorf("changes = %v, want [a down, a up]", got)
	}
}

// TestLeastOutstanding: a new request goes to the server with the fewest
// requests in flight.
func TestLeastOutstanding(t *testing.T) {
	a, b := &server{name: "a", block: make(chan struct{})}, &server{name: "b", block: make(chan struct{})}
	p := newPool(a, b)
	defer p.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); p.Do(context.Background(), call) }()
	}
	for a.calls.Load()+b.calls.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	if a.calls.Load() != 2 || b.calls.Load() != 2 {
		t.Errorf("4 requests in flight spread %d/%d, want 2/2", a.calls.Load(), b.calls.Load())
	}
	close(a.block)
	close(b.block)
	wg.Wait()
	for _, s := range p.Status() {
		if s.Outstanding != 0 {
			t.Errorf("%s outstanding %d after all returned", s.Name, s.Outstanding)
		}
	}
}

// TestCancelledNotDown: a request cut short by its own context does not
// take its server out, and is not tried elsewhere.
func TestCancelledNotDown(t *testing.T) {
	a, b := &server{name: "a"}, &server{name: "b"}
	p := newPool(a, b)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	err := p.Do(ctx, func(s *server) error { cancel(); s.calls.Add(1); return context.Canceled })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	if a.calls.Load()+b.calls.Load() != 1 {
		t.Errorf("a cancelled request ran %d times, want 1", a.calls.Load()+b.calls.Load())
	}
	for _, s := range p.Status() {
		if !s.Up {
			t.Errorf("%s taken out by a cancelled request", s.Name)
		}
	}
}

func TestNoServer(t *testing.T) {
	p := New[*server](nil, Options[*server]{})
	if err := p.Do(context.Background(), call); !errors.Is(err, ErrNoServer) {
		t.Errorf("Do on an empty pool = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
