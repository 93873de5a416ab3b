package reinject

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serve answers the first command line on a pipe with the writes given,
// one Write each, then closes its end.
func serve(t *testing.T, writes ...string) *cconn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close() })
	go func() {
		defer b.Close()
		buf := make([]byte, 1024)
		if _, err := b.Read(buf); err != nil {
			return
		}
		for _, w := range writes {
			if _, err := b.Write([]byte(w)); err != nil {
				return
			}
		}
	}()
	return &cconn{Conn: a, timeout: 5 * time.Second}
}

// command reads a reply however it arrives, and what came after it is
// read next by go-smtp's reader, byte for byte.
func TestCommandReply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
	}{
		{"one segment", []string{"250-first\r\n250 2.0.0 second\r\n220 next\r\n"}},
		{"byte by byte", strings.Split("250-first\r\n250 2.0.0 second\r\n220 next\r\n", "")},
		{"split in lines", []string{"250-fir", "st\r\n250 2.0.0 sec", "ond\r\n22", "0 next\r\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := serve(t, tc.writes...)
			r, err := c.command("XFORWARD NAME=x")
			if err != nil || r.Code != 250 || r.Text != "first 2.0.0 second" {
				t.Fatalf("command = %+v, %v", r, err)
			}
			rest, _ := io.ReadAll(c)
			if string(rest) != "220 next\r\n" {
				t.Errorf("after the reply, Read gives %q", rest)
			}
		})
	}
}

// A reply over maxReply, a malformed one and a connection that ends
// within a reply are errors.
func TestCommandReplyErrors(t *testing.T) {
	long := strings.Repeat("250-"+strings.Repeat("x", 100)+"\r\n", maxReply/100) + "250 end\r\n"
	for name, w := range map[string]string{
		"too long":       long,
		"one line long":  "250 " + strings.Repeat("x", maxReply+10),
		"malformed":      "hello\r\n",
		"code too small": "199 no\r\n",
		"cut short":      "250-first\r\n",
	} {
		c := serve(t, w)
		if r, err := c.command("XFORWARD NAME=x"); err == nil {
			t.Errorf("%s: command = %+v, want an error", name, r)
		}
	}
	// At the limit: read.
	atLimit := "250 " + strings.Repeat("x", maxReply-len("250 \r\n")) + "\r\n"
	if r, err := serve(t, atLimit).command("XFORWARD NAME=x"); err != nil || r.Code != 250 {
		t.Errorf("a reply of maxReply bytes: %+v, %v", r.Code, err)
	}
}
