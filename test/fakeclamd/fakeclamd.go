// Package fakeclamd is an in-process clamd for tests: it speaks clamd's
// z-commands (one per connection, or a session after zIDSESSION with each
// answer numbered as clamd numbers them) and answers through a handler, so
// that a test can make it answer anything, late, or not at all.
package fakeclamd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Handler answers one command (cmd with its "z" and without its NUL),
// reading what follows it from r and writing the answer to w. Writing
// nothing leaves the command unanswered: a session then ends.
type Handler func(cmd string, r *bufio.Reader, w net.Conn)

// Server is a running fake clamd.
type Server struct {
	ln     net.Listener
	handle Handler

	mu       sync.Mutex
	conns    int
	commands int
	open     map[net.Conn]bool
}

// Start serves handle until the test ends, on a unix socket in the test's
// temporary directory (network "unix") or on a loopback TCP port ("tcp").
func Start(t testing.TB, network string, handle Handler) *Server {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "clamd.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, handle: handle, open: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.open {
			c.Close() // sessions the client keeps open
		}
		s.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.open[conn] = true
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.open, conn)
					s.mu.Unlock()
					conn.Close()
				}()
				s.serve(conn)
			}()
		}
	}()
	return s
}

// Addr is where clients connect: the socket's path or host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Served returns the commands served so far (a session's IDSESSION and
// END not counted).
func (s *Server) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// Connections returns the connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// serve answers one command, or a session's commands until one goes
// unanswered or is answered with an ERROR (as clamd ends a session after
// a failed INSTREAM).
func (s *Server) serve(conn net.Conn) {
	br := bufio.NewReader(conn)
	cmd, err := br.ReadString(0)
	if err != nil {
		return
	}
	if cmd != "zIDSESSION\x00" {
		s.count()
		s.handle(strings.TrimSuffix(cmd, "\x00"), br, conn)
		return
	}
	for n := 1; ; n++ {
		cmd, err := br.ReadString(0)
		if err != nil || cmd == "zEND\x00" {
			return
		}
		s.count()
		w := &numbered{Conn: conn, prefix: strconv.Itoa(n) + ": "}
		s.handle(strings.TrimSuffix(cmd, "\x00"), br, w)
		if w.prefix != "" || bytes.HasSuffix(w.tail, []byte("ERROR\x00")) {
			return
		}
	}
}

func (s *Server) count() {
	s.mu.Lock()
	s.commands++
	s.mu.Unlock()
}

// numbered puts a session answer's number before its first bytes and
// keeps the end of what was written.
type numbered struct {
	net.Conn
	prefix string
	tail   []byte
}

func (w *numbered) Write(b []byte) (int, error) {
	if w.prefix != "" && len(b) > 0 {
		p := w.prefix
		w.prefix = ""
		if _, err := io.WriteString(w.Conn, p); err != nil {
			return 0, err
		}
	}
	w.tail = append(w.tail, b...)
	if len(w.tail) > 16 {
		w.tail = w.tail[len(w.tail)-16:]
	}
	return w.Conn.Write(b)
}

// Raw returns the connection under a session answer's numbering, for a
// handler that writes an answer of its own making (a wrong number, none).
func Raw(w net.Conn) net.Conn {
	if n, ok := w.(*numbered); ok {
		return n.Conn
	}
	return w
}

// ErrTooBig is ReadStream's error for a stream over its limit.
var ErrTooBig = errors.New("stream over the size limit")

// ReadStream reads INSTREAM chunks up to the empty one. Over limit bytes
// (0: no limit) it stops with ErrTooBig; a chunk over 1 MiB is an error.
func ReadStream(r *bufio.Reader, limit int) ([]byte, error) {
	var data []byte
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return data, err
		}
		n := binary.BigEndian.Uint32(h[:])
		if n == 0 {
			return data, nil
		}
		if n > 1<<20 {
			return data, errors.New("chunk too large")
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return data, err
		}
		data = append(data, chunk...)
		if limit > 0 && len(data) > limit {
			return data, ErrTooBig
		}
	}
}

// Answer returns a handler that answers PING, VERSION and STATS as clamd
// does, and INSTREAM with reply(data), or with clamd's size-limit error
// for a stream over limit bytes (0: no limit).
func Answer(limit int, reply func(data []byte) string) Handler {
	return func(cmd string, r *bufio.Reader, w net.Conn) {
		switch cmd {
		case "zPING":
			io.WriteString(w, "PONG\x00")
		case "zVERSION":
			io.WriteString(w, "ClamAV 1.4.6/1/fake\x00")
		case "zSTATS":
			io.WriteString(w, "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 3 idle-timeout 30\nQUEUE: 0 items\nEND\x00")
		case "zINSTREAM":
			data, err := ReadStream(r, limit)
			switch {
			case errors.Is(err, ErrTooBig):
				io.WriteString(w, "INSTREAM size limit exceeded. ERROR\x00")
			case err == nil:
				io.WriteString(w, reply(data))
			}
		default:
			io.WriteString(w, "UNKNOWN COMMAND\x00")
		}
	}
}

// EICAR answers like a clamd whose only signature is EICAR's.
func EICAR(data []byte) string {
	if bytes.Contains(data, []byte("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")) {
		return "stream: Eicar-Test-Signature FOUND\x00"
	}
	return "stream: OK\x00"
}
