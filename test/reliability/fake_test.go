//go:build reliability

package reliability

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClamd is an in-process TCP server that stands in for clamd: in
// garbage mode it answers every connection with one of several broken
// replies; in proxy mode it relays to the real clamd.
type fakeClamd struct {
	ln    net.Listener
	proxy atomic.Bool
	hang  atomic.Bool // read and never answer (wins over proxy)
	real  string
	conns atomic.Int64
	wg    sync.WaitGroup

	mu     sync.Mutex
	relays map[net.Conn]bool // client connections relayed now
}

// setProxy switches between relaying and garbage. Leaving proxy mode cuts
// the connections being relayed, as a clamd going away would: qscan keeps
// clamd sessions open between scans, and those must not outlive the switch.
func (f *fakeClamd) setProxy(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.proxy.Store(on)
	if !on {
		for c := range f.relays {
			c.Close()
		}
	}
}

// relaying registers c as relayed if proxy mode is on.
func (f *fakeClamd) relaying(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proxy.Load() {
		f.relays[c] = true
	}
	return f.relays[c]
}

func newFakeClamd(t *testing.T, realAddr string) *fakeClamd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeClamd{ln: ln, real: realAddr, relays: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeClamd) addr() string { return f.ln.Addr().String() }

func (f *fakeClamd) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		n := f.conns.Add(1)
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			if f.hang.Load() {
				io.Copy(io.Discard, c)
				return
			}
			if f.relaying(c) {
				relay(c, f.real)
				f.mu.Lock()
				delete(f.relays, c)
				f.mu.Unlock()
				return
			}
			garbage(c, n)
		}()
	}
}

// garbage answers with the n-th kind of broken reply.
func garbage(c net.Conn, n int64) {
	buf := make([]byte, 4096)
	c.Read(buf) // the command and perhaps a first chunk
	switch n % 5 {
	case 0: // random bytes, no terminator
		r := rand.New(rand.NewPCG(uint64(n), 1))
		junk := make([]byte, 300)
		for i := range junk {
			junk[i] = byte(r.UintN(256))
		}
		c.Write(junk)
	case 1: // an error reply
		c.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
	case 2: // closed at once
	case 3: // a reply that is not clamd's grammar
		c.Write([]byte("stream: \x00"))
	case 4: // an endless line
		for i := 0; i < 64; i++ {
			if _, err := c.Write(make([]byte, 64<<10)); err != nil {
				return
			}
		}
	}
}

// relay copies both ways between c and the real server.
func relay(c net.Conn, addr string) {
	r, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	defer r.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(r, c); done <- struct{}{} }()
	go func() { io.Copy(c, r); done <- struct{}{} }()
	<-done
}
