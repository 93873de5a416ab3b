package clamd

import (
	"bufio"
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

// fakeClamd is an in-process clamd on a unix socket, for the failure paths
// that a real clamd will not produce on demand. After IDSESSION it serves
// the connection's further commands, prefixing each answer with the
// command's number as clamd does, until a command goes unanswered.
type fakeClamd struct {
	path   string
	handle func(cmd string, r *bufio.Reader, w net.Conn)

	mu       sync.Mutex
	conns    int
	commands int
	open     map[net.Conn]bool
}

// startFake serves handle on a fresh socket until the test ends.
func startFake(t *testing.T, handle func(cmd string, r *bufio.Reader, w net.Conn)) *fakeClamd {
	t.Helper()
	f := &fakeClamd{path: filepath.Join(t.TempDir(), "clamd.sock"), handle: handle, open: map[net.Conn]bool{}}
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for c := range f.open {
			c.Close() // sessions the client keeps open
		}
		f.mu.Unlock()
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
			f.mu.Lock()
			f.conns++
			f.open[conn] = true
			f.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					f.mu.Lock()
					delete(f.open, conn)
					f.mu.Unlock()
					conn.Close()
				}()
				f.serve(conn)
			}()
		}
	}()
	return f
}

// serve answers one command, or a session's commands.
func (f *fakeClamd) serve(conn net.Conn) {
	br := bufio.NewReader(conn)
	cmd, err := br.ReadString(0)
	if err != nil {
		return
	}
	if cmd != "zIDSESSION\x00" {
		f.count()
		f.handle(strings.TrimSuffix(cmd, "\x00"), br, conn)
		return
	}
	for n := 1; ; n++ {
		cmd, err := br.ReadString(0)
		if err != nil || cmd == "zEND\x00" {
			return
		}
		f.count()
		w := &numbered{Conn: conn, prefix: strconv.Itoa(n) + ": "}
		f.handle(strings.TrimSuffix(cmd, "\x00"), br, w)
		if w.prefix != "" {
			return // unanswered: the session ends
		}
	}
}

func (f *fakeClamd) count() {
	f.mu.Lock()
	f.commands++
	f.mu.Unlock()
}

// numbered puts a session answer's number before its first bytes.
type numbered struct {
	net.Conn
	prefix string
}

func (w *numbered) Write(b []byte) (int, error) {
	if w.prefix != "" && len(b) > 0 {
		p := w.prefix
		w.prefix = ""
		if _, err := io.WriteString(w.Conn, p); err != nil {
			return 0, err
		}
	}
	return w.Conn.Write(b)
}

// served returns the commands served.
func (f *fakeClamd) served() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commands
}

func (f *fakeClamd) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// readStream reads INSTREAM chunks up to the empty one.
func readStream(r *bufio.Reader) ([]byte, error) {
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
	}
}

// answer returns a handler that reads the stream and writes reply(data).
func answer(reply func(data []byte) string) func(string, *bufio.Reader, net.Conn) {
	return func(cmd string, r *bufio.Reader, w net.Conn) {
		switch cmd {
		case "zSTATS":
			io.WriteString(w, "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 3 idle-timeout 30\nQUEUE: 0 items\nEND\x00")
		case "zINSTREAM":
			data, err := readStream(r)
			if err != nil {
				return
			}
			io.WriteString(w, reply(data))
		default:
			io.WriteString(w, "UNKNOWN COMMAND\x00")
		}
	}
}

// eicarReply answers like a clamd with the EICAR signature.
func eicarReply(data []byte) string {
	if strings.Contains(string(data), "EICAR-STANDARD-ANTIVIRUS-TEST-FILE") {
		return "stream: Eicar-Test-Signature FOUND\x00"
	}
	return "stream: OK\x00"
}
