package main

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a loopback TCP relay in front of an engine that counts the
// bytes clients send to it, so that qscan and the engine-alone clients
// are measured the same way. io.Copy between TCP connections splices in
// the kernel, so the relay costs little CPU.
type proxy struct {
	ln     net.Listener
	target string
	sent   atomic.Int64
	// accepted counts the connections, one per engine request.
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	// busy is the integral of open connections over time: each engine
	// request has a connection of its own, so busy/wall is the mean
	// number of requests in flight.
	busy time.Duration
	last time.Time
	// grace is how long close waits for clients to hang up.
	grace time.Duration
	// delay holds each answer of the engine this long before it is passed
	// on: the engine then looks that much slower to every client alike.
	delay time.Duration
}

// newProxy listens on a free loopback port and relays to target.
func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}, grace: 5 * time.Second}
	go p.serve()
	return p, nil
}

// addr is where clients connect.
func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.last.IsZero() {
		p.busy += time.Duration(len(p.conns)) * now.Sub(p.last)
	}
	p.last = now
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) handle(c net.Conn) {
	defer p.wg.Done()
	p.track(c, true)
	defer p.track(c, false)
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		n, _ := io.Copy(up, c)
		p.sent.Add(n)
		closeWrite(up) // the engine sees the client's end of input
		close(done)
	}()
	if p.delay > 0 {
		copyDelayed(c, up, p.delay)
	} else {
		io.Copy(c, up)
	}
	// The engine closed: the exchange is over whatever the client does.
	c.Close()
	up.Close()
	<-done
}

// copyDelayed copies src to dst like io.Copy, holding the first bytes for
// delay.
func copyDelayed(dst io.Writer, src io.Reader, delay time.Duration) {
	buf := make([]byte, 32<<10)
	n, err := src.Read(buf)
	if n > 0 {
		time.Sleep(delay)
		if _, werr := dst.Write(buf[:n]); werr != nil {
			return
		}
	}
	if err == nil {
		io.Copy(dst, src)
	}
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*net.TCPConn); ok {
		t.CloseWrite()
	}
}

// connTime returns the connection-time so far (see busy).
func (p *proxy) connTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy
}

// close stops the relay and returns the bytes sent through it. Clients
// are given p.grace to hang up; connections still open are then cut.
func (p *proxy) close() int64 {
	p.ln.Close()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.grace):
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		<-done
	}
	return p.sent.Load()
}
