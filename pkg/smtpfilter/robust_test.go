package smtpfilter

import (
	"bufio"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/pkg/spool"
)

// A connection lost in the middle of DATA leaves nothing in the spool,
// not even a temporary file.
func TestConnectionLostDuringData(t *testing.T) {
	s, sp := start(t, nil)
	r := dialRaw(t, "tcp", addr(s))
	r.expect("220 ")
	r.send("EHLO mta", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA")
	r.expect("250-")
	r.expect("250 ")
	r.expect("250 ")
	r.expect("354 ")
	r.send("Subject: half", "", strings.Repeat("x", 100000))
	r.c.Close()
	// The server notices the close, then the session ends: a new
	// connection and a full message prove it has moved on.
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	empty(t, sp)
}

// waitIdle waits until the only connection left is at most one (the
// test's own), i.e. the killed one is gone.
func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if len(s.slots) <= 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d connections still open", len(s.slots))
}

// When the 250 arrives, the message is already complete in the spool.
func TestListedBefore250(t *testing.T) {
	var atQueued []spool.Entry
	s, sp := start(t, func(o *Options) {
		o.Queued = func(id string, _ *spool.Envelope) { atQueued, _ = o.Spool.List() }
	})
	c, err := smtp.Dial(addr(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := "Subject: whole\r\n\r\n" + strings.Repeat("line\r\n", 10000)
	if err := c.SendMail("a@example.org", []string{"b@example.net"}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if len(atQueued) != 1 || atQueued[0].Size < int64(len(body)-10000) {
		t.Fatalf("before the reply, List = %+v", atQueued)
	}
	_, _, stored := only(t, sp)
	if stored != strings.ReplaceAll(body, "\r\n", "\n") {
		t.Errorf("stored %d bytes, want the whole message", len(stored))
	}
}

func TestLMTPPerRecipientReplies(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "lmtp.sock")
	_, sp := start(t, func(o *Options) { o.Listen = []string{"lmtp:unix:" + sock} })
	r := dialRaw(t, "unix", sock)
	r.expect("220 ")
	r.send("EHLO mta")
	r.expect("500 ") // an LMTP listener wants LHLO
	r.send("LHLO mta")
	if ehlo := r.expect("250-"); !strings.Contains(ehlo, "XFORWARD") {
		t.Errorf("LHLO reply without XFORWARD: %s", ehlo)
	}
	r.send("XFORWARD ADDR=192.0.2.7", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "RCPT TO:<c@example.net>", "DATA")
	for range 4 {
		r.expect("250 ")
	}
	r.expect("354 ")
	r.send("Subject: lmtp", "", "x", ".")
	r1, r2 := r.expect("250 2.0.0 <b@example.net> Ok: queued as "), r.expect("250 2.0.0 <c@example.net> Ok: queued as ")
	e, env, _ := only(t, sp)
	if !strings.HasSuffix(r1, e.ID) || !strings.HasSuffix(r2, e.ID) {
		t.Errorf("replies %q %q, want the ID %s", r1, r2, e.ID)
	}
	if env.Protocol != "LMTP" || env.XForward.Addr != "192.0.2.7" || len(env.Recipients) != 2 || env.Listener != "lmtp:unix:"+sock {
		t.Errorf("envelope %+v", env)
	}
}

func TestMaxConnections(t *testing.T) {
	s, _ := start(t, func(o *Options) { o.MaxConnections = 1 })
	first := dialRaw(t, "tcp", addr(s))
	first.expect("220 ")
	dialRaw(t, "tcp", addr(s)).expect("421 4.7.0 ")
	first.send("QUIT")
	first.expect("221 ")
	waitFree(t, s)
	dialRaw(t, "tcp", addr(s)).expect("220 ")
}

func waitFree(t *testing.T, s *Server) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if len(s.slots) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("connection slot not released")
}

func TestCommandTimeout(t *testing.T) {
	s, _ := start(t, func(o *Options) { o.CommandTimeout = 50 * time.Millisecond })
	r := dialRaw(t, "tcp", addr(s))
	r.expect("220 ")
	r.expect("421 4.4.2 ")
}

func TestDataTimeout(t *testing.T) {
	s, sp := start(t, func(o *Options) { o.DataTimeout = 50 * time.Millisecond })
	r := dialRaw(t, "tcp", addr(s))
	r.expect("220 ")
	r.send("EHLO mta", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA")
	r.expect("250-")
	r.expect("250 ")
	r.expect("250 ")
	r.expect("354 ")
	r.send("Subject: slow")
	r.expect("421 4.4.2 ")
	empty(t, sp)
}

func TestParseListen(t *testing.T) {
	tests := []struct {
		in   string
		want Addr
		bad  bool
	}{
		{in: "127.0.0.1:10024", want: Addr{"tcp", "127.0.0.1:10024", false}},
		{in: "[::1]:10024", want: Addr{"tcp", "[::1]:10024", false}},
		{in: ":10024", want: Addr{"tcp", ":10024", false}},
		{in: "lmtp:127.0.0.1:10024", want: Addr{"tcp", "127.0.0.1:10024", true}},
		{in: "unix:/run/qscan/f.sock", want: Addr{"unix", "/run/qscan/f.sock", false}},
		{in: "/run/qscan/f.sock", want: Addr{"unix", "/run/qscan/f.sock", false}},
		{in: "lmtp:unix:/run/l.sock", want: Addr{"unix", "/run/l.sock", true}},
		{in: "unix:relative.sock", bad: true},
		{in: "localhost:10024", bad: true},
		{in: "127.0.0.1", bad: true},
		{in: "127.0.0.1:notaport", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseListen(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseListen(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseListen(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestLFReader(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb\r\n":      "a\nb\n",
		"a\rb\r\r\n":      "a\rb\r\n",
		"\r\n\r\n":        "\n\n",
		"no end\r":        "no end\r",
		"lf only\nline\n": "lf only\nline\n",
	} {
		// One byte per read: a CR at the end of a read must still pair.
		r := &lfReader{br: bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16)}
		got, err := io.ReadAll(iotest.OneByteReader(r))
		if err != nil || string(got) != want {
			t.Errorf("lfReader(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	sp, _ := spool.Open(t.TempDir())
	for name, o := range map[string]Options{
		"no listen":  {Spool: sp, IDs: &seqGen{}},
		"bad listen": {Listen: []string{"nowhere"}, Spool: sp, IDs: &seqGen{}},
		"no spool":   {Listen: []string{"127.0.0.1:0"}, IDs: &seqGen{}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestParseClients(t *testing.T) {
	got, err := ParseClients([]string{"127.0.0.0/8", "::1", "192.0.2.7", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.0/8", "::1/128", "192.0.2.7/32", "10.0.0.0/8"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("ParseClients[%d] = %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"localhost", "1.2.3.4/33", ""} {
		if _, err := ParseClients([]string{bad}); err == nil {
			t.Errorf("ParseClients(%q) succeeded", bad)
		}
	}
}

// Message bytes are never taken for commands: not after the final dot in
// the same packet, not inside a BDAT chunk.
func TestPipelinedAfterDataAndBDAT(t *testing.T) {
	s, sp := start(t, nil)
	r := dialRaw(t, "tcp", addr(s))
	r.expect("220 ")
	r.send("EHLO mta")
	r.expect("250-")
	// One write: the end of one message and the next transaction.
	r.send("MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA")
	r.expect("250 ")
	r.expect("250 ")
	r.expect("354 ")
	r.send("Subject: one", "", "body", ".", "XFORWARD ADDR=192.0.2.44", "MAIL FROM:<c@example.org>", "RCPT TO:<d@example.net>", "DATA")
	r.expect("250 2.0.0 Ok: queued as ")
	r.expect("250 2.0.0 Ok")
	r.expect("250 ")
	r.expect("250 ")
	r.expect("354 ")
	r.send("Subject: two", "", ".")
	r.expect("250 2.0.0 Ok: queued as ")
	es, _ := sp.List()
	if len(es) != 2 {
		t.Fatalf("%d messages, want 2", len(es))
	}
	var addrs []string
	for _, e := range es {
		l, _ := e.Lock()
		env, _ := l.Envelope(spool.Limits{})
		l.Unlock()
		addrs = append(addrs, env.Sender+"/"+env.XForward.Addr)
	}
	if strings.Join(addrs, " ") != "a@example.org/ c@example.org/192.0.2.44" && strings.Join(addrs, " ") != "c@example.org/192.0.2.44 a@example.org/" {
		t.Errorf("senders/XFORWARD addresses %v", addrs)
	}
	sp.Remove(es[0].ID, es[1].ID)

	chunk := "Subject: c\r\n\r\nXFORWARD ADDR=6.6.6.6\r\n"
	r.send("MAIL FROM:<e@example.org>", "RCPT TO:<f@example.net>")
	r.expect("250 ")
	r.expect("250 ")
	io.WriteString(r.c, "BDAT "+strconv.Itoa(len(chunk))+" LAST\r\n"+chunk)
	r.expect("250 ")
	_, env, body := only(t, sp)
	if body != "Subject: c\n\nXFORWARD ADDR=6.6.6.6\n" || !env.XForward.IsZero() {
		t.Errorf("BDAT chunk: body %q, XFORWARD %+v", body, env.XForward)
	}
}
