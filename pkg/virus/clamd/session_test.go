package clamd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/test/fakeclamd"
)

// sessionClient returns a session client of the fake, n connections at most.
func sessionClient(t *testing.T, f *fakeclamd.Server, n int) *Client {
	t.Helper()
	c, err := New(Options{Socket: f.Addr(), MaxConnections: n, Sessions: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func scanOK(t *testing.T, c *Client, r io.Reader, want string) {
	t.Helper()
	res, err := c.Scan(context.Background(), r)
	if got := strings.Join(res.Names(), ","); err != nil || got != want {
		t.Fatalf("Scan() = %+v, %v; want names %q", res, err, want)
	}
}

// One scan at a time: every scan on the one session, answers numbered.
func TestSessionReuse(t *testing.T) {
	f := startFake(t, answer(eicarReply))
	c := sessionClient(t, f, 2)
	for range 5 {
		scanOK(t, c, strings.NewReader("hello"), "")
		scanOK(t, c, strings.NewReader(eicar), "Eicar-Test-Signature")
	}
	if conns, scans := f.Connections(), f.Served(); conns != 1 || scans != 10 {
		t.Errorf("%d connections for %d scans, want 1 for 10", conns, scans)
	}
}

// Concurrent scans: at most MaxConnections sessions, then reused.
func TestSessionConcurrency(t *testing.T) {
	f := startFake(t, answer(func(data []byte) string {
		time.Sleep(5 * time.Millisecond)
		return eicarReply(data)
	}))
	c := sessionClient(t, f, 3)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if res, err := c.Scan(context.Background(), strings.NewReader("x")); err != nil || res.Infected() {
				t.Errorf("Scan() = %+v, %v", res, err)
			}
		})
	}
	wg.Wait()
	if conns := f.Connections(); conns < 1 || conns > 3 {
		t.Errorf("%d connections for 30 scans with 3 slots, want 1..3", conns)
	}
	if n := len(c.idle); n < 1 || n > 3 {
		t.Errorf("%d idle sessions, want 1..3", n)
	}
}

// An answer with another command's number, or none, ends the session and
// fails the scan.
func TestSessionWrongAnswer(t *testing.T) {
	for _, reply := range []string{"7: stream: OK\x00", "stream: OK\x00", "1: stream: OK"} {
		f := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
			readStream(r)
			io.WriteString(fakeclamd.Raw(w), reply) // past the numbering
		})
		c := sessionClient(t, f, 1)
		if _, err := c.Scan(context.Background(), strings.NewReader("x")); !errors.Is(err, virus.ErrUnavailable) {
			t.Errorf("answer %q: Scan() error = %v, want ErrUnavailable", reply, err)
		}
		if len(c.idle) != 0 {
			t.Errorf("answer %q: session kept", reply)
		}
	}
}

// A session closed by clamd while idle is not used again.
func TestSessionClosedWhileIdle(t *testing.T) {
	f := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
		readStream(r)
		io.WriteString(w, "stream: OK\x00")
		w.Close() // answered, then gone (clamd restarted)
	})
	c := sessionClient(t, f, 1)
	for range 3 {
		scanOK(t, c, onlyReader{strings.NewReader("x")}, "")
		time.Sleep(10 * time.Millisecond) // the close reaches us
	}
	if n := f.Connections(); n != 3 {
		t.Errorf("%d connections for 3 scans on sessions closed after each answer, want 3", n)
	}
}

// A session that was open when taken but closes without answering: the
// scan is sent again on a new session when the content can be rewound,
// and fails otherwise (never taken for clean).
func TestSessionStaleRetry(t *testing.T) {
	var mu sync.Mutex
	first := map[net.Conn]bool{} // connections that answered once
	f := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
		conn := fakeclamd.Raw(w)
		mu.Lock()
		again := first[conn]
		first[conn] = true
		mu.Unlock()
		if again {
			return // closes without a word
		}
		readStream(r)
		io.WriteString(w, eicarReply(nil))
	})
	c := sessionClient(t, f, 1)
	scanOK(t, c, strings.NewReader("a"), "")
	scanOK(t, c, strings.NewReader("b"), "") // stale session, sent again
	if n := f.Connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	if _, err := c.Scan(context.Background(), onlyReader{strings.NewReader("c")}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Scan(unrewindable) on a stale session: error = %v, want the unexpected EOF", err)
	}
}

// A failure closes every idle session; idle sessions expire; Close closes
// them.
func TestSessionDropAndExpire(t *testing.T) {
	var fail sync.Mutex // held: the next scan hangs up
	failing := false
	f := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
		readStream(r)
		fail.Lock()
		bad := failing
		fail.Unlock()
		if !bad {
			time.Sleep(5 * time.Millisecond)
			io.WriteString(w, "stream: OK\x00")
		}
	})
	c := sessionClient(t, f, 3)
	fill := func() {
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { c.Scan(context.Background(), strings.NewReader("x")) })
		}
		wg.Wait()
	}
	fill()
	if n := len(c.idle); n < 2 {
		t.Fatalf("%d idle sessions after 3 concurrent scans, want 2 or 3", n)
	}
	fail.Lock()
	failing = true
	fail.Unlock()
	if _, err := c.Scan(context.Background(), onlyReader{strings.NewReader("x")}); err == nil {
		t.Fatal("Scan() with clamd hanging up succeeded")
	}
	if n := len(c.idle); n != 0 {
		t.Errorf("%d idle sessions after a failure, want 0", n)
	}
	fail.Lock()
	failing = false
	fail.Unlock()

	c.mu.Lock()
	c.idleFor = 20 * time.Millisecond
	c.mu.Unlock()
	fill()
	time.Sleep(100 * time.Millisecond)
	c.mu.Lock()
	n := len(c.idle)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d idle sessions after their idle time, want 0", n)
	}

	c.mu.Lock()
	c.idleFor = time.Hour
	c.mu.Unlock()
	fill()
	c.Close()
	if len(c.idle) != 0 {
		t.Errorf("idle sessions left after Close")
	}
}
