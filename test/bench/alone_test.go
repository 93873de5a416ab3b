package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/virus/clamd"
	"github.com/qscan/qscan/test/fakeclamd"
)

// fakeClamd answers like clamd (see fakeclamd) with the EICAR signature
// only and a size-limit ERROR above limit bytes, and records every stream
// it scanned.
type fakeClamd struct {
	*fakeclamd.Server
	mu      sync.Mutex
	streams [][]byte
}

func startFakeClamd(t *testing.T, limit int) *fakeClamd {
	t.Helper()
	f := &fakeClamd{}
	f.Server = fakeclamd.Start(t, "tcp", fakeclamd.Answer(limit, func(data []byte) string {
		f.mu.Lock()
		f.streams = append(f.streams, data)
		f.mu.Unlock()
		return fakeclamd.EICAR(data)
	}))
	return f
}

func (f *fakeClamd) addr() string { return f.Addr() }

// relayedFake starts a fake clamd and a relay in front of it that holds
// each answer delay; the relay is closed when the test ends, if the test
// has not closed it.
func relayedFake(t *testing.T, delay time.Duration) (*fakeClamd, *proxy) {
	t.Helper()
	f := startFakeClamd(t, 0)
	p, err := newProxy(f.addr(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p.delay = delay
	t.Cleanup(func() { p.close() })
	return f, p
}

// count returns the streams scanned.
func (f *fakeClamd) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.streams)
}

func TestInstream(t *testing.T) {
	f := startFakeClamd(t, 1<<20)
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160 000 bytes: three chunks
	tests := []struct {
		msg     []byte
		want    string
		wantErr bool
	}{
		{[]byte("Subject: hi\n\nhello\n"), "stream: OK", false},
		{withEICAR(1), "stream: Eicar-Test-Signature FOUND", false},
		{big, "stream: OK", false},
		{bytes.Repeat([]byte("x"), 2<<20), "", true},
	}
	for i, tt := range tests {
		got, err := instream(f.addr(), tt.msg)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("instream(message %d) = %q, %v; want %q, error %v", i, got, err, tt.want, tt.wantErr)
		}
	}
	if f.count() != 3 || !bytes.Equal(f.streams[2], big) {
		t.Errorf("fake clamd got %d streams (want 3), the chunked one intact: %v", f.count(), f.count() == 3 && bytes.Equal(f.streams[2], big))
	}
}

func TestInstreamRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if got, err := instream(addr, []byte("x")); err == nil || !strings.Contains(err.Error(), "clamd instream "+addr) {
		t.Errorf("instream(closed port) = %q, %v; want a clamd instream error", got, err)
	}
}

func testMessages(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "Subject: m%d\n\nbody %d\n", i, i)
	}
	msgs[n/2] = withEICAR(n / 2)
	return msgs
}

// TestClamdAloneThroughProxy runs the whole-message client through the
// counting relay: every message reaches clamd once, and the relay counts
// each message plus the zINSTREAM framing.
func TestClamdAloneThroughProxy(t *testing.T) {
	f, p := relayedFake(t, 0)
	msgs := testMessages(25)
	var reads atomic.Int64
	mid := newMid(len(msgs), func() (map[string]time.Duration, bool) {
		return map[string]time.Duration{"clamd": time.Duration(reads.Add(1)) * time.Second}, true
	})
	r, err := clamdAlone(p.addr(), msgs, 3, mid)
	if err != nil {
		t.Fatal(err)
	}
	if s := mid.span(); s == nil || s.cpu["clamd"] != time.Second || reads.Load() != 2 {
		t.Errorf("middle of the run = %+v after %d reads; want 1s of clamd CPU between the 2nd and the 23rd answer", s, reads.Load())
	}
	busy := p.requestTime()
	sent := p.close()
	if busy <= 0 || busy > time.Duration(len(msgs))*engineTimeout {
		t.Errorf("relay request time = %v, want above 0", busy)
	}
	if n := p.answered(); n != 25 {
		t.Errorf("relay counted %d requests, want 25", n)
	}
	framing := int64(len(msgs) * (len("zINSTREAM\x00") + 4 + 4)) // one chunk each, then the end mark
	if r.msgs != 25 || f.count() != 25 || sent != totalBytes(msgs)+framing {
		t.Errorf("clamdAlone: result %d msgs, clamd saw %d, relay counted %d; want 25, 25, %d", r.msgs, f.count(), sent, totalBytes(msgs)+framing)
	}
}

func TestClamdAloneError(t *testing.T) {
	f := startFakeClamd(t, 10)
	if _, err := clamdAlone(f.addr(), testMessages(8), 2, nil); err == nil || !strings.Contains(err.Error(), "ERROR") {
		t.Errorf("clamdAlone(limit exceeded) error = %v, want the clamd ERROR", err)
	}
}

// TestClamdscanAlone runs the real clamdscan --stream against the fake.
func TestClamdscanAlone(t *testing.T) {
	if _, err := exec.LookPath("clamdscan"); err != nil {
		t.Skip("clamdscan not installed")
	}
	f := startFakeClamd(t, 0)
	msgs := testMessages(10)
	r, err := clamdscanAlone(t.TempDir(), f.addr(), msgs, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.msgs != 10 || f.count() != 10 {
		t.Errorf("clamdscanAlone: %d msgs, clamd saw %d; want 10, 10", r.msgs, f.count())
	}
}

// fakeSpamd answers CHECK and REPORT requests the way spamd does; a
// message with "spammy" in it scores 9.
func startFakeSpamd(t *testing.T) (addr string, checked func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				cmd, body, ok := readSpamc(bufio.NewReader(c))
				if !ok {
					return
				}
				mu.Lock()
				n++
				mu.Unlock()
				verdict := "False ; 1.5 / 5.0"
				if bytes.Contains(body, []byte("spammy")) {
					verdict = "True ; 9.0 / 5.0"
				}
				if cmd == "REPORT" {
					text := "Content analysis details: (1.5 points, 5.0 required)\n"
					fmt.Fprintf(c, "SPAMD/1.1 0 EX_OK\r\nContent-length: %d\r\nSpam: %s\r\n\r\n%s", len(text), verdict, text)
					return
				}
				fmt.Fprintf(c, "SPAMD/1.1 0 EX_OK\r\nSpam: %s\r\n\r\n", verdict)
			}()
		}
	}()
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func readSpamc(r *bufio.Reader) (cmd string, body []byte, ok bool) {
	line, err := r.ReadString('\n')
	cmd, _, _ = strings.Cut(line, " ")
	if err != nil || (cmd != "CHECK" && cmd != "REPORT") {
		return "", nil, false
	}
	length := -1
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return "", nil, false
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		if v, ok := strings.CutPrefix(strings.ToLower(h), "content-length:"); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length < 0 {
		return "", nil, false
	}
	body = make([]byte, length)
	_, err = io.ReadFull(r, body)
	return cmd, body, err == nil
}

// TestSpamcAlone runs the real spamc against the fake spamd: spam and ham
// both count as answered, a spamd that is gone is an error (no safe
// fallback).
func TestSpamcAlone(t *testing.T) {
	if _, err := exec.LookPath("spamc"); err != nil {
		t.Skip("spamc not installed")
	}
	addr, checked := startFakeSpamd(t)
	msgs := testMessages(12)
	msgs[3] = []byte("Subject: spammy\n\nspammy\n")
	for i, report := range []bool{false, true} {
		r, err := spamcAlone(addr, msgs, 4, report, nil)
		if want := 12 * (i + 1); err != nil || r.msgs != 12 || checked() != want {
			t.Errorf("spamcAlone(report %v) = %d msgs, %v; spamd checked %d in all; want 12, nil, %d", report, r.msgs, err, checked(), want)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	if _, err := spamcAlone(gone, msgs[:2], 1, true, nil); err == nil {
		t.Error("spamcAlone(closed port) succeeded, want an error")
	}
}

// TestProxySession: on a clamd session (one connection, one request after
// the other) the relay counts each request, holds each answer and counts
// the time requests are open, not the time the connection is.
func TestProxySession(t *testing.T) {
	f, p := relayedFake(t, 20*time.Millisecond)
	c, err := clamd.New(clamd.Options{Address: p.addr(), MaxConnections: 1, Sessions: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 5 {
		res, err := c.Scan(context.Background(), bytes.NewReader(testMessages(2)[i%2]))
		if err != nil || res.Infected() != (i%2 == 1) {
			t.Fatalf("scan %d through the relay: %+v, %v", i, res, err)
		}
	}
	took := time.Since(start)
	time.Sleep(100 * time.Millisecond) // the session idles: not a request
	busy, engaged := p.requestTime(), p.engaged()
	c.Close()
	p.close()
	if engaged != busy {
		t.Errorf("time with a request open %s, want the request time %s (one request at a time)", engaged, busy)
	}
	if n, conns := p.answered(), f.count(); n != 5 || conns != 5 {
		t.Errorf("relay counted %d requests, clamd saw %d streams; want 5, 5", n, conns)
	}
	if took < 5*p.delay {
		t.Errorf("5 requests took %s, want at least 5 × %s: every answer held", took, p.delay)
	}
	if busy < 5*p.delay || busy > took {
		t.Errorf("request time %s, want between 5 × %s and the %s the requests took", busy, p.delay, took)
	}
}

// TestProxyEngaged: requests open at the same time count once in the
// time the engine had work, each in the request time.
func TestProxyEngaged(t *testing.T) {
	_, p := relayedFake(t, 50*time.Millisecond)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := instream(p.addr(), []byte("Subject: x\n\nhello\n")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	busy, engaged := p.requestTime(), p.engaged()
	if engaged < p.delay || busy < 2*p.delay || engaged > busy*3/4 {
		t.Errorf("two requests held %s at once: engaged %s, request time %s; want engaged at least %s and well under the request time (at least %s)", p.delay, engaged, busy, p.delay, 2*p.delay)
	}
}

// TestProxyDelay: with a delay, the relay holds each answer at least that
// long and passes it on whole.
func TestProxyDelay(t *testing.T) {
	_, p := relayedFake(t, 30*time.Millisecond)
	start := time.Now()
	reply, err := instream(p.addr(), []byte("Subject: x\n\nhello\n"))
	if took := time.Since(start); err != nil || took < p.delay || reply != "stream: OK" {
		t.Errorf("instream through a relay with delay %s: %q, %v after %s; want stream: OK after the delay", p.delay, reply, err, took)
	}
}
