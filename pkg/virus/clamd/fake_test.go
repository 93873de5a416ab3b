package clamd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeClamd is an in-process clamd on a unix socket, for the failure paths
// that a real clamd will not produce on demand.
type fakeClamd struct {
	path   string
	handle func(cmd string, r *bufio.Reader, w net.Conn)

	mu    sync.Mutex
	conns int
}

// startFake serves handle on a fresh socket until the test ends.
func startFake(t *testing.T, handle func(cmd string, r *bufio.Reader, w net.Conn)) *fakeClamd {
	t.Helper()
	f := &fakeClamd{path: filepath.Join(t.TempDir(), "clamd.sock"), handle: handle}
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
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
			f.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				br := bufio.NewReader(conn)
				cmd, err := br.ReadString(0)
				if err != nil {
					return
				}
				f.handle(strings.TrimSuffix(cmd, "\x00"), br, conn)
			}()
		}
	}()
	return f
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
