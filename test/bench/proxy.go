package main

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a loopback TCP relay in front of an engine that counts the
// bytes clients send to it and the requests they make, so that qscan and
// the engine-alone clients are measured the same way.
//
// A request opens with the first bytes a client sends after the previous
// answer and ends with its answer: the answer's terminator when the relay
// knows it (term: clamd's NUL; a client may then send the next request on
// the same connection, as in a clamd session), else the end of the
// connection (spamd answers one request per connection).
type proxy struct {
	ln     net.Listener
	target string
	term   int // the byte that ends an answer, -1: the connection's end
	sent   atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	// open counts the requests waiting for their answer; busy is its
	// integral over time, so busy/wall is the mean number of requests in
	// flight; requests counts the requests answered or cut.
	open     int
	busy     time.Duration
	last     time.Time
	requests int64
	// engagedFor is the time with at least one request open: the engine
	// had work, however many requests it was given.
	engagedFor time.Duration
	// grace is how long close waits for clients to hang up.
	grace time.Duration
	// delay holds each answer of the engine this long before it is passed
	// on: the engine then looks that much slower to every client alike.
	delay time.Duration
}

// newProxy listens on a free loopback port and relays to target; term is
// the byte that ends an engine's answer, -1 when answers end with the
// connection.
func newProxy(target string, term int) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, term: term, conns: map[net.Conn]bool{}, grace: 5 * time.Second}
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
		p.wg.Add(1)
		go p.handle(c)
	}
}

// flow is one client connection's request state.
type flow struct {
	open      bool // a request waits for its answer
	answering bool // its answer has begun
}

// step updates the integral of open requests and then the count by delta.
func (p *proxy) step(delta int) {
	now := time.Now()
	if !p.last.IsZero() {
		p.busy += time.Duration(p.open) * now.Sub(p.last)
		if p.open > 0 {
			p.engagedFor += now.Sub(p.last)
		}
	}
	p.last = now
	p.open += delta
}

// begin marks a request open on f, if none is.
func (p *proxy) begin(f *flow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !f.open {
		f.open = true
		p.step(+1)
	}
}

// end closes f's open request, if any, and counts it.
func (p *proxy) end(f *flow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.open {
		f.open, f.answering = false, false
		p.requests++
		p.step(-1)
	}
}

// startAnswer reports whether these are the first bytes of f's answer.
func (p *proxy) startAnswer(f *flow) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := f.open && !f.answering
	f.answering = true
	return first
}

func (p *proxy) handle(c net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	p.conns[c] = true
	p.mu.Unlock()
	f := &flow{}
	defer func() {
		p.end(f) // a request cut by the connection's end counts too
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				p.begin(f)
				p.sent.Add(int64(n))
				if _, werr := up.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		closeWrite(up) // the engine sees the client's end of input
		close(done)
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			if p.startAnswer(f) && p.delay > 0 {
				time.Sleep(p.delay)
			}
			if p.term >= 0 && bytes.IndexByte(buf[:n], byte(p.term)) >= 0 {
				// Before the client sees the answer and sends its next request.
				p.end(f)
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// The engine closed: the exchange is over whatever the client does.
	c.Close()
	up.Close()
	<-done
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*net.TCPConn); ok {
		t.CloseWrite()
	}
}

// requestTime returns the request-time so far (see busy).
func (p *proxy) requestTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step(0)
	return p.busy
}

// engaged returns the time so far with at least one request open.
func (p *proxy) engaged() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step(0)
	return p.engagedFor
}

// answered returns the number of requests so far.
func (p *proxy) answered() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
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
