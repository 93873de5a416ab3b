package spamd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTellRequestAndAnswer(t *testing.T) {
	msg := "Subject: cheap pills\r\n\r\nbuy now\r\n"
	for _, tc := range []struct {
		spam    bool
		answer  string
		class   string
		learned bool
	}{
		{true, "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n", "spam", true},
		{false, "SPAMD/1.1 0 EX_OK\r\nDidSet: remote, local\r\n\r\n", "ham", true},
		{true, "SPAMD/1.1 0 EX_OK\r\n\r\n", "spam", false},                   // learned before
		{false, "SPAMD/1.1 0 EX_OK\r\nDidSet: remote\r\n\r\n", "ham", false}, // not the local database
	} {
		f := startFake(t, "tcp", answer(tc.answer))
		c := newClient(t, Options{Address: f.options().Address, User: "qscan"})
		learned, err := c.Tell(context.Background(), tc.spam, strings.NewReader(msg))
		if err != nil {
			t.Fatalf("Tell(%v) with answer %q: %v", tc.spam, tc.answer, err)
		}
		if learned != tc.learned {
			t.Errorf("Tell(%v) with answer %q = %v, want %v", tc.spam, tc.answer, learned, tc.learned)
		}
		reqs := f.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Line != "TELL SPAMC/1.5" || r.Hdr["Message-class"] != tc.class || r.Hdr["Set"] != "local" ||
			r.Hdr["User"] != "qscan" || string(r.Body) != msg {
			t.Errorf("request = %+v, want TELL with Message-class %s, Set local, User qscan and the message", r, tc.class)
		}
	}
}

func TestTellRefused(t *testing.T) {
	// spamd without --allow-tell.
	f := startFake(t, "tcp", answer("SPAMD/1.0 69 TELL commands are not enabled, set the --allow-tell switch.\r\n"))
	c := newClient(t, f.options())
	learned, err := c.Tell(context.Background(), true, strings.NewReader("Subject: x\r\n\r\ny\r\n"))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExUnavailable || learned {
		t.Fatalf("Tell against a spamd without --allow-tell = %v, %v; want EX_UNAVAILABLE", learned, err)
	}
	if !strings.Contains(err.Error(), "spamd TELL ") || !strings.Contains(err.Error(), "--allow-tell") {
		t.Errorf("error %q does not name the command and spamd's reason", err)
	}
	if err := c.Learn(context.Background(), false, strings.NewReader("x\r\n")); err == nil {
		t.Error("Learn: no error from a refused TELL")
	}
}

func TestTellSendsTheHeadOnly(t *testing.T) {
	f := startFake(t, "tcp", answer("SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n"))
	o := f.options()
	o.MaxSize = 20
	c := newClient(t, o)
	msg := "Subject: a\r\n\r\n" + strings.Repeat("line\r\n", 10)
	if _, err := c.Tell(context.Background(), true, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].Body; len(got) > 20 || !strings.HasPrefix(msg, string(got)) || !bytes.HasSuffix(got, []byte("\n")) {
		t.Errorf("sent %q, want the head of the message cut at a line under 20 bytes", got)
	}
}

func TestParseTellMalformed(t *testing.T) {
	for _, in := range []string{"", "HTTP/1.1 200 OK\r\n\r\n", "SPAMD/1.1 0 EX_OK\r\nDidSet local\r\n\r\n", "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n"} {
		if _, err := ParseTell(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTell(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

// TestRealSpamdTell teaches the stack's spamd (--allow-tell, Bayes on) a
// message as spam, once, then as ham.
func TestRealSpamdTell(t *testing.T) {
	addr := os.Getenv("QSCAN_SPAMD")
	if addr == "" {
		t.Skip("QSCAN_SPAMD not set")
	}
	o := Options{Address: addr}
	if strings.HasPrefix(addr, "/") {
		o = Options{Socket: addr}
	}
	c := newClient(t, o)
	ctx := context.Background()
	// A Message-ID of its own: Bayes remembers what it has learned, also
	// from earlier runs against the same stack.
	msg := fmt.Sprintf("From: seller@pills.example\r\nTo: bob@example.test\r\nSubject: cheap watches and pills\r\n"+
		"Message-ID: <tell-%d@qscan.test>\r\n\r\nBuy cheap watches, pills and more at our online shop today.\r\n", time.Now().UnixNano())
	learned, err := c.Tell(ctx, true, strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Tell(spam): %v (spamd needs --allow-tell and use_bayes 1)", err)
	}
	if !learned {
		t.Error("Tell(spam) of a new message: not learned")
	}
	if learned, err = c.Tell(ctx, true, strings.NewReader(msg)); err != nil || learned {
		t.Errorf("Tell(spam) again = %v, %v; want not learned (already known)", learned, err)
	}
	if learned, err = c.Tell(ctx, false, strings.NewReader(msg)); err != nil || !learned {
		t.Errorf("Tell(ham) of the spam = %v, %v; want learned", learned, err)
	}
}
