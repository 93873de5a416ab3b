package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// startSink runs a sink on a free loopback port and returns its address.
func startSink(t *testing.T, dir string, maxSize int64) string {
	t.Helper()
	s, err := newServer(dir, maxSize, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go s.serve(l)
	return l.Addr().String()
}

func readStored(t *testing.T, dir string, n int) ([]byte, Envelope) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", n)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.env", n)))
	if err != nil {
		t.Fatal(err)
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%d.env: %v", n, err)
	}
	return body, env
}

func TestSendMail(t *testing.T) {
	dir := t.TempDir()
	addr := startSink(t, dir, 1<<20)
	// net/smtp sends CRLF and dot-stuffs; the sink must store LF and undo it.
	msg := "Subject: hi\r\n\r\n.leading dot\r\n..two dots\r\nlast line without newline"
	to := []string{"bob@example.test", "carol@example.test"}
	if err := smtp.SendMail(addr, nil, "alice@sender.example", to, []byte(msg)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	body, env := readStored(t, dir, 1)
	want := "Subject: hi\n\n.leading dot\n..two dots\nlast line without newline\n"
	if string(body) != want {
		t.Errorf("stored body = %q, want %q", body, want)
	}
	if env.MailFrom != "alice@sender.example" || !slices.Equal(env.RcptTo, to) {
		t.Errorf("envelope = %+v, want from alice@sender.example to %v", env, to)
	}
	if env.Received.IsZero() || env.Helo != "localhost" {
		t.Errorf("envelope = %+v, want received time and helo localhost", env)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(matches) != 0 {
		t.Errorf("temp files left behind: %v", matches)
	}
}

func TestNumbersContinueAfterRestart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "41.eml"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startSink(t, dir, 1<<20)
	if err := smtp.SendMail(addr, nil, "a@x.test", []string{"b@y.test"}, []byte("new\r\n")); err != nil {
		t.Fatal(err)
	}
	if body, _ := readStored(t, dir, 42); string(body) != "new\n" {
		t.Errorf("42.eml = %q, want %q", body, "new\n")
	}
}

func TestConcurrentConnections(t *testing.T) {
	dir := t.TempDir()
	addr := startSink(t, dir, 1<<20)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i)
			if err := smtp.SendMail(addr, nil, "a@x.test", []string{"b@y.test"}, []byte(msg)); err != nil {
				t.Errorf("SendMail %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := 1; i <= n; i++ {
		body, _ := readStored(t, dir, i)
		seen[string(body)] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct messages, want %d", len(seen), n)
	}
}

// dialog sends raw lines (all at once, as a pipelining client may) and
// returns the reply lines received until the server closes the connection.
func dialog(t *testing.T, addr string, lines ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, strings.Join(lines, "\r\n")+"\r\n"); err != nil {
		t.Fatal(err)
	}
	var replies []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		replies = append(replies, strings.TrimSuffix(sc.Text(), "\r"))
	}
	return replies
}

func TestDialog(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string // reply codes after the greeting
		files int
	}{
		{"pipelined", []string{"EHLO c", "MAIL FROM:<a@x.test> SIZE=10 BODY=8BITMIME", "RCPT TO:<b@y.test>", "DATA", "x", ".", "QUIT"},
			[]string{"250", "250", "250", "354", "250", "221"}, 1},
		{"order", []string{"HELO c", "RCPT TO:<b@y.test>", "DATA", "MAIL FROM:<a@x.test>", "MAIL FROM:<a@x.test>", "QUIT"},
			[]string{"250", "503", "503", "250", "503", "221"}, 0},
		{"rset", []string{"HELO c", "MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>", "RSET", "DATA", "NOOP", "QUIT"},
			[]string{"250", "250", "250", "250", "503", "250", "221"}, 0},
		{"syntax", []string{"HELO c", "MAIL FROM:a@x.test", "MAIL TO:<a@x.test>", "VRFY x", "MAIL FROM: <>", "RCPT TO:<b", "QUIT"},
			[]string{"250", "501", "501", "500", "250", "501", "221"}, 0},
		{"declared size", []string{"HELO c", "MAIL FROM:<a@x.test> SIZE=99999", "QUIT"},
			[]string{"250", "552", "221"}, 0},
		{"too big", []string{"HELO c", "MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>", "DATA", strings.Repeat("y", 200), ".", "NOOP", "QUIT"},
			[]string{"250", "250", "250", "354", "552", "250", "221"}, 0},
		{"long line", []string{"HELO " + strings.Repeat("h", 5000)}, []string{"500"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			replies := dialog(t, startSink(t, dir, 100), tt.lines...)
			var codes []string
			for _, r := range replies {
				if len(r) >= 4 && r[3] == ' ' {
					codes = append(codes, r[:3])
				}
			}
			if len(codes) == 0 || codes[0] != "220" {
				t.Fatalf("replies %q: no 220 greeting", replies)
			}
			if !slices.Equal(codes[1:], tt.want) {
				t.Errorf("reply codes = %v, want %v (replies %q)", codes[1:], tt.want, replies)
			}
			emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			if len(emls) != tt.files {
				t.Errorf("stored %d messages, want %d", len(emls), tt.files)
			}
		})
	}
}

func FuzzPathArg(f *testing.F) {
	for _, s := range []string{"FROM:<a@x.test> SIZE=10", "TO: <b@y.test>", "FROM:<>", "from:<a", "TO:b@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		addr, params, ok := pathArg(arg, "FROM:")
		if !ok {
			return
		}
		if strings.Contains(addr, ">") || !strings.HasPrefix(strings.ToUpper(arg), "FROM:") {
			t.Errorf("pathArg(%q) = %q, %q, true", arg, addr, params)
		}
		declaredSize(params)
	})
}
