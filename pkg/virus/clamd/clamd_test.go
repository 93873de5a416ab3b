package clamd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// onlyReader hides Len/Size so that the client cannot know the length.
type onlyReader struct{ io.Reader }

func TestScanFake(t *testing.T) {
	big := strings.Repeat("a", 300) + eicar
	long := "Sig.With: colons and spaces." + strings.Repeat("B", 1000) // 1 KB: real clamd answers names of any length
	tests := []struct {
		name    string
		handle  func(string, *bufio.Reader, net.Conn)
		opts    Options
		content io.Reader
		names   []string
		limit   bool
		err     error // nil, or what errors.Is must find besides virus.ErrUnavailable
	}{
		{name: "found", handle: answer(eicarReply), content: strings.NewReader(big), names: []string{"Eicar-Test-Signature"}},
		{name: "ok", handle: answer(eicarReply), content: strings.NewReader("hello")},
		{name: "empty", handle: answer(eicarReply), content: strings.NewReader("")},
		{name: "heuristic", handle: answer(func([]byte) string { return "stream: Heuristics.Encrypted.Zip FOUND\x00" }),
			content: strings.NewReader("PK"), names: []string{"Heuristics.Encrypted.Zip"}},
		{name: "long name", handle: answer(func([]byte) string { return "stream: " + long + " FOUND\x00" }),
			content: strings.NewReader("x"), names: []string{long[:virus.MaxNameLen-len(virus.CutMark)] + virus.CutMark}},
		{name: "error answer", handle: answer(func([]byte) string { return "stream: Can't allocate memory ERROR\x00" }),
			content: strings.NewReader("x"), err: virus.ErrUnavailable},
		{name: "garbage", handle: answer(func([]byte) string { return "I am not clamd\x00" }),
			content: strings.NewReader("x"), err: virus.ErrUnavailable},
		{name: "no answer", handle: answer(func([]byte) string { return "" }),
			content: strings.NewReader("x"), err: io.ErrUnexpectedEOF},
		{name: "answer too long", handle: answer(func([]byte) string { return strings.Repeat("s", 100) }),
			opts: Options{MaxReply: 50}, content: strings.NewReader("x"), err: errReplyTooLong},
		{name: "close mid-stream", handle: func(_ string, r *bufio.Reader, _ net.Conn) { r.Discard(100) },
			opts: Options{ChunkSize: 16}, content: strings.NewReader(strings.Repeat("z", 100000)), err: virus.ErrUnavailable},
		{name: "clamd size limit", handle: func(_ string, r *bufio.Reader, w net.Conn) {
			r.Discard(40)
			io.WriteString(w, "INSTREAM size limit exceeded. ERROR\x00")
			w.Close() // as clamd does, in a session too
		}, opts: Options{ChunkSize: 16}, content: strings.NewReader(strings.Repeat("z", 100000)), limit: true},
		{name: "our size limit, unknown length", handle: answer(eicarReply), opts: Options{MaxStream: 100, ChunkSize: 16},
			content: onlyReader{strings.NewReader(strings.Repeat("z", 101))}, limit: true},
		{name: "exactly max", handle: answer(eicarReply), opts: Options{MaxStream: 100, ChunkSize: 16},
			content: onlyReader{strings.NewReader(strings.Repeat("z", 100))}},
		{name: "hang", handle: func(_ string, r *bufio.Reader, _ net.Conn) { io.Copy(io.Discard, r) }, // until the client closes
			opts: Options{Timeout: 100 * time.Millisecond}, content: strings.NewReader("x"), err: context.DeadlineExceeded},
		{name: "content read error", handle: answer(eicarReply),
			content: iotest.ErrReader(errors.New("disk on fire")), err: virus.ErrUnavailable},
	}
	for _, tt := range tests {
		for _, sessions := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sessions=%v", tt.name, sessions), func(t *testing.T) {
				f := startFake(t, tt.handle)
				tt.opts.Socket = f.Addr()
				tt.opts.MaxConnections = 2
				tt.opts.Sessions = sessions
				c, err := New(tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.Scan(context.Background(), replay(tt.content))
				if tt.err != nil {
					if !errors.Is(err, tt.err) || !errors.Is(err, virus.ErrUnavailable) {
						t.Fatalf("Scan() = %+v, %v; want error %v (and ErrUnavailable)", res, err, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Scan() error = %v", err)
				}
				if got := res.Names(); !slices.Equal(got, tt.names) || res.LimitExceeded != tt.limit || res.Engine != Name {
					t.Errorf("Scan() = %+v, want names %q, limit %v, engine clamd", res, tt.names, tt.limit)
				}
			})
		}
	}
}

// replay returns a reader with what r holds; r is left to be replayed
// again. Readers that fail are returned as they are.
func replay(r io.Reader) io.Reader {
	switch v := r.(type) {
	case *strings.Reader:
		v.Seek(0, io.SeekStart)
		b, _ := io.ReadAll(v)
		v.Seek(0, io.SeekStart)
		return strings.NewReader(string(b))
	case onlyReader:
		return onlyReader{replay(v.Reader)}
	}
	return r
}

func TestScanKnownSizeOverLimitDoesNotConnect(t *testing.T) {
	f := startFake(t, answer(eicarReply))
	c, err := New(Options{Socket: f.Addr(), MaxStream: 10, MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Scan(context.Background(), strings.NewReader(eicar))
	if err != nil || !res.LimitExceeded || res.Infected() {
		t.Errorf("Scan(68 bytes, max 10) = %+v, %v; want LimitExceeded, not infected", res, err)
	}
	if n := f.Connections(); n != 0 {
		t.Errorf("connections = %d, want 0", n)
	}
}

func TestScanCancel(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := startFake(t, func(string, *bufio.Reader, net.Conn) { <-block })
	c, err := New(Options{Socket: f.Addr(), MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Scan(ctx, strings.NewReader("x"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Scan(cancelled) error = %v, want context.Canceled and ErrUnavailable", err)
	}
}

func TestScanRefused(t *testing.T) {
	c, err := New(Options{Socket: filepath.Join(t.TempDir(), "nothing.sock"), MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Scan(context.Background(), strings.NewReader("x")); !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Scan(no clamd) error = %v, want ErrUnavailable", err)
	}
	if err := c.Ping(context.Background()); !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Ping(no clamd) error = %v, want ErrUnavailable", err)
	}
}

// TestConcurrencyFromStats checks that MaxConnections 0 asks clamd and that
// no more scans than that run at once.
func TestConcurrencyFromStats(t *testing.T) {
	var mu sync.Mutex
	active, peak := 0, 0
	scan := answer(func([]byte) string {
		mu.Lock()
		active++
		peak = max(peak, active)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		active--
		mu.Unlock()
		return "stream: OK\x00"
	})
	f := startFake(t, scan)
	c, err := New(Options{Socket: f.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.MaxConnections(); got != 0 {
		t.Errorf("MaxConnections() before first scan = %d, want 0", got)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := c.Scan(context.Background(), strings.NewReader("x")); err != nil {
				t.Errorf("Scan() error = %v", err)
			}
		})
	}
	wg.Wait()
	if got := c.MaxConnections(); got != 3 {
		t.Errorf("MaxConnections() = %d, want 3 (from STATS)", got)
	}
	if peak > 3 || peak < 1 {
		t.Errorf("peak concurrent scans = %d, want 1..3", peak)
	}
}

func TestPingVersion(t *testing.T) {
	f := startFake(t, func(cmd string, _ *bufio.Reader, w net.Conn) {
		switch cmd {
		case "zPING":
			io.WriteString(w, "PONG\x00")
		case "zVERSION":
			io.WriteString(w, "ClamAV 1.4.6/27000/Mon Jan  5 09:00:00 2026\x00")
		}
	})
	c, err := New(Options{Socket: f.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
	v, err := c.Version(context.Background())
	if want := "ClamAV 1.4.6/27000/Mon Jan  5 09:00:00 2026"; v != want || err != nil {
		t.Errorf("Version() = %q, %v; want %q", v, err, want)
	}
	if _, err := c.Stats(context.Background()); !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Stats() with no answer: error = %v, want ErrUnavailable", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		opts Options
		want string // String(), or "" for an error
	}{
		{Options{}, "tcp:127.0.0.1:3310"},
		{Options{Address: "127.0.0.1:3311"}, "tcp:127.0.0.1:3311"},
		{Options{Socket: "/run/clamd.ctl"}, "unix:/run/clamd.ctl"},
		{Options{Socket: "/run/clamd.ctl", Address: "127.0.0.1:3310"}, ""},
		{Options{Timeout: -time.Second}, ""},
		{Options{MaxStream: -1}, ""},
	}
	for _, tt := range tests {
		c, err := New(tt.opts)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("New(%+v) = %v, want error", tt.opts, c)
		case tt.want != "" && (err != nil || c.String() != tt.want):
			t.Errorf("New(%+v) = %v, %v; want %s", tt.opts, c, err, tt.want)
		}
	}
}

func TestConcurrencyWithoutStats(t *testing.T) {
	f := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
		if cmd != "zINSTREAM" {
			io.WriteString(w, "UNKNOWN COMMAND\x00")
			return
		}
		readStream(r)
		io.WriteString(w, "stream: OK\x00")
	})
	c, err := New(Options{Socket: f.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Scan(context.Background(), strings.NewReader("x")); err != nil || res.Infected() {
		t.Fatalf("Scan() = %+v, %v; want clean", res, err)
	}
	if got := c.MaxConnections(); got != clamdDefaultMaxThreads {
		t.Errorf("MaxConnections() = %d, want clamd's default %d", got, clamdDefaultMaxThreads)
	}
}

// countWrites counts the writes on a connection.
type countWrites struct {
	net.Conn
	n int
}

func (c *countWrites) Write(b []byte) (int, error) {
	c.n++
	return c.Conn.Write(b)
}

// Content that fits in a chunk goes out in one write (command, chunk and
// terminator), longer content in one write per chunk; clamd reads the same
// stream either way.
func TestInstreamWrites(t *testing.T) {
	for _, c := range []struct {
		size, chunk, writes int
	}{{0, 64, 1}, {10, 64, 1}, {64, 64, 1}, {100, 64, 2}, {128, 64, 2}, {129, 64, 3}} {
		want := strings.Repeat("x", c.size)
		f := startFake(t, answer(func(data []byte) string {
			if string(data) != want {
				return "stream: Damaged.Stream FOUND\x00"
			}
			return "stream: OK\x00"
		}))
		cl, err := New(Options{Socket: f.Addr(), ChunkSize: c.chunk})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := net.Dial("unix", f.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn := &countWrites{Conn: raw}
		res, err := cl.instream(context.Background(), conn, strings.NewReader(want))
		raw.Close()
		if err != nil {
			t.Fatalf("%d bytes: %v", c.size, err)
		}
		if conn.n != c.writes {
			t.Errorf("%d bytes in chunks of %d: %d writes, want %d", c.size, c.chunk, conn.n, c.writes)
		}
		if res.Infected() {
			t.Errorf("%d bytes: clamd did not read the stream sent", c.size)
		}
	}
}

// Probe needs a scan verdict: a clamd answering PONG but garbage to
// INSTREAM is not back.
func TestProbe(t *testing.T) {
	var got []byte
	ok := startFake(t, answer(func(data []byte) string { got = data; return "stream: OK\x00" }))
	c, _ := New(Options{Socket: ok.Addr(), MaxConnections: 1})
	if err := c.Probe(context.Background()); err != nil || string(got) != probeContent {
		t.Errorf("Probe() = %v after clamd read %q; want nil after %q", err, got, probeContent)
	}
	garbage := startFake(t, func(cmd string, r *bufio.Reader, w net.Conn) {
		if cmd == "zPING" {
			io.WriteString(w, "PONG\x00")
			return
		}
		readStream(r)
		io.WriteString(w, "\x01\x02 what\x00")
	})
	c, _ = New(Options{Socket: garbage.Addr(), MaxConnections: 1})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	if err := c.Probe(context.Background()); !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Probe() of a clamd answering garbage = %v, want ErrUnavailable", err)
	}
	c, _ = New(Options{Socket: filepath.Join(t.TempDir(), "none.sock"), MaxConnections: 1})
	if err := c.Probe(context.Background()); !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Probe() with no clamd = %v, want ErrUnavailable", err)
	}
}
