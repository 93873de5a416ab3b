package spamd

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// request is what the fake spamd received.
type request struct {
	Line string
	Hdr  map[string]string
	Body []byte
}

// fakeSpamd is an in-process spamd for failure-path tests: it reads one
// SPAMC request per connection and lets handle answer it.
type fakeSpamd struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs []request
}

func startFake(t *testing.T, network string, handle func(c net.Conn, req request)) *fakeSpamd {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "spamd.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSpamd{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				req, err := readRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				f.mu.Lock()
				f.reqs = append(f.reqs, req)
				f.mu.Unlock()
				handle(c, req)
			})
		}
	})
	return f
}

func (f *fakeSpamd) options() Options {
	if f.ln.Addr().Network() == "unix" {
		return Options{Socket: f.ln.Addr().String()}
	}
	return Options{Address: f.ln.Addr().String()}
}

func (f *fakeSpamd) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func readRequest(r *bufio.Reader) (request, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return request{}, err
	}
	req := request{Line: strings.TrimRight(line, "\r\n"), Hdr: map[string]string{}}
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return req, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		req.Hdr[k] = strings.TrimSpace(v)
	}
	n, _ := strconv.Atoi(req.Hdr["Content-length"])
	req.Body = make([]byte, n)
	_, err = io.ReadFull(r, req.Body)
	return req, err
}

// answer returns a handler that writes s.
func answer(s string) func(net.Conn, request) {
	return func(c net.Conn, _ request) { io.WriteString(c, s) }
}

// answerFile returns a handler that writes testdata/name.
func answerFile(t *testing.T, name string) func(net.Conn, request) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(c net.Conn, _ request) { c.Write(b) }
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
