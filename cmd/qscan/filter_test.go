package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sink is a downstream SMTP server (the MTA's 10025) that keeps what it
// gets.
type sink struct {
	mu   sync.Mutex
	msgs []string
	from []string
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s    *sink
	from string
}

func (x *sinkSession) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *sinkSession) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (x *sinkSession) Reset()                                      {}
func (x *sinkSession) Logout() error                               { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, string(b))
	x.s.from = append(x.s.from, x.from)
	x.s.mu.Unlock()
	return err
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func startSink(t *testing.T) (*sink, string) {
	t.Helper()
	s := &sink{}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s, ln.Addr().String()
}

// talk sends SMTP lines to addr and returns the reply to each.
func talk(t *testing.T, addr string, lines ...string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	var replies []string
	read := func() string {
		var b strings.Builder
		for {
			l, err := r.ReadString('\n')
			b.WriteString(l)
			if err != nil || len(l) < 4 || l[3] != '-' {
				return b.String()
			}
		}
	}
	read() // greeting
	for _, l := range lines {
		fmt.Fprintf(c, "%s\r\n", l)
		if strings.HasPrefix(l, "DATA") || !strings.HasPrefix(l, "Subject") && !strings.HasPrefix(l, "From:") && l != "" && l != "." && !strings.HasPrefix(l, "body") {
			replies = append(replies, read())
		} else if l == "." {
			replies = append(replies, read())
		}
	}
	return replies
}

// TestFilterDaemon: `qscan run` with [smtp] listen accepts a message
// (XFORWARD client given), scans it and re-injects it downstream with
// qscan's header, logging the original client; `qscan lint` takes the
// filter layout (no queue.incoming/outgoing); when the downstream is down
// and the spool over its limit, new mail gets 451 and `qscan check` says
// so.
func TestFilterDaemon(t *testing.T) {
	s, down := startSink(t)
	root := t.TempDir()
	listen := closedPort(t)
	cfg := filepath.Join(root, "qscan.toml")
	write := func(reinject, maxSpool string) {
		c := fmt.Sprintf("[queue]\nwork_dir = \"work\"\npid_file = \"work/qscan.pid\"\nrescan_interval = \"1s\"\n"+
			"[batch]\nretry_min = \"1s\"\nretry_max = \"2s\"\n"+
			"[quarantine]\ndir = \"quarantine\"\n[store]\npath = \"work/qscan.db\"\n[virus]\nscanners = [\"builtin\"]\n[virus.builtin]\nsignatures = \"\"\n[spam]\nengines = []\n"+
			"[smtp]\nlisten = [%q]\nspool = \"spool\"\nreinject = %q\nmax_spool_bytes = %q\n", listen, reinject, maxSpool)
		os.WriteFile(cfg, []byte(c), 0o600)
	}
	write(down, "2GB")
	if out, code := qscan(t, "lint", "--no-engines", "-c", cfg); code != 0 {
		t.Fatalf("lint of the filter layout = %d:\n%s", code, out)
	}
	var log bytes.Buffer
	var logMu sync.Mutex
	cmd := exec.Command(qscanBin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = lockedWriter{&log, &logMu}, lockedWriter{&log, &logMu}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitListen(t, listen)
	msg := []string{"EHLO mta.test", "XFORWARD ADDR=192.0.2.55 NAME=client.example HELO=client-helo PROTO=ESMTP",
		"MAIL FROM:<a@example.org>", "RCPT TO:<b@example.test> NOTIFY=FAILURE", "DATA",
		"Subject: filter test", "", "body line", "."}
	replies := talk(t, listen, msg...)
	if last := replies[len(replies)-1]; !strings.HasPrefix(last, "250") {
		t.Fatalf("replies %q", replies)
	}
	waitFor(t, func() bool { return len(s.got()) == 1 })
	got := s.got()[0]
	if !strings.Contains(got, "X-QScan: Found to be clean") && !strings.Contains(got, "-QScan: ") {
		t.Errorf("re-injected message lacks qscan's header:\n%s", got)
	}
	if !strings.HasSuffix(got, "\r\n\r\nbody line\r\n") {
		t.Errorf("body changed:\n%q", got)
	}
	waitFor(t, func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(log.String(), "client=192.0.2.55")
	})
	if n, _ := os.ReadDir(filepath.Join(root, "spool")); len(n) != 0 {
		t.Errorf("spool keeps %d files", len(n))
	}
	if out, code := qscan(t, "check", "-c", cfg); code != 0 {
		t.Errorf("check while accepting = %d:\n%s", code, out)
	}
	// A virus: the cleaned copy and the report are re-injected, the
	// original quarantined; released, it is re-injected as it came.
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STAN` + `DARD-ANTIVIRUS-TEST-FILE!$H+H*`
	if r := talk(t, listen, "EHLO mta.test", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.test>", "DATA",
		"Subject: virus", "", "body "+eicar, "."); !strings.HasPrefix(r[len(r)-1], "250") {
		t.Fatalf("virus message: %q", r)
	}
	waitFor(t, func() bool { return len(s.got()) >= 3 })
	entries, _ := filepath.Glob(filepath.Join(root, "quarantine", "*", "*", "metadata.json"))
	if len(entries) != 1 {
		t.Fatalf("quarantine entries %v", entries)
	}
	entry := filepath.Base(filepath.Dir(filepath.Dir(entries[0]))) + "/" + filepath.Base(filepath.Dir(entries[0]))
	if out, code := qscan(t, "quarantine", "release", "-c", cfg, entry); code != 0 {
		t.Fatalf("release = %d:\n%s", code, out)
	}
	waitFor(t, func() bool { return len(s.got()) >= 4 })
	if rel := s.got()[3]; !strings.Contains(rel, "-QScan-Released: ") || !strings.Contains(rel, "EICAR-STAN") || !strings.Contains(rel, "Subject: virus") {
		t.Errorf("released copy:\n%s", rel)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	// Downstream down, spool limit 1 byte: the first message stays in
	// the spool, then new mail is refused with 451.
	write(closedPort(t), "1")
	cmd = exec.Command(qscanBin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = lockedWriter{&log, &logMu}, lockedWriter{&log, &logMu}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitListen(t, listen)
	if r := talk(t, listen, msg...); !strings.HasPrefix(r[len(r)-1], "250") {
		t.Fatalf("first message: %q", r)
	}
	waitFor(t, func() bool {
		r := talk(t, listen, "EHLO mta.test", "MAIL FROM:<a@example.org>", "QUIT")
		return strings.HasPrefix(r[1], "451 4.3.0")
	})
	waitFor(t, func() bool {
		out, code := qscan(t, "check", "-c", cfg)
		return code != 0 && strings.Contains(out, "SMTP filter refusing mail with 451") && strings.Contains(out, "spool 1 messages")
	})
	if ents, _ := filepath.Glob(filepath.Join(root, "spool", "ef*")); len(ents) != 1 {
		t.Errorf("spool envelopes = %v, want the message kept", ents)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// waitFor polls ok for up to 30 s.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met in 30 s")
}

// TestLintFilterAddresses: a re-injection address that is also a listen
// address loops mail (error); re-injecting on port 25 is a warning.
func TestLintFilterAddresses(t *testing.T) {
	_, cfg := demo(t, "[spam]\nengines = []\n[smtp]\nlisten = [\"127.0.0.1:10024\"]\nspool = \"spool\"\nreinject = \"127.0.0.1:10024\"\n")
	if out, code := qscan(t, "lint", "--no-engines", "-c", cfg); code != exitConfig || !strings.Contains(out, "re-inject mail into itself") {
		t.Errorf("lint of a loop = %d:\n%s", code, out)
	}
	_, cfg = demo(t, "[spam]\nengines = []\n[smtp]\nlisten = [\"127.0.0.1:10024\"]\nspool = \"spool\"\nreinject = \"127.0.0.1:25\"\n")
	if out, code := qscan(t, "lint", "--no-engines", "-c", cfg); code != 0 || !strings.Contains(out, "warning: smtp.reinject: 127.0.0.1:25 is the MTA's public port") {
		t.Errorf("lint of port 25 = %d:\n%s", code, out)
	}
	_, cfg = demo(t, "[spam]\nengines = []\n[smtp]\nlisten = [\"127.0.0.1:10024\"]\nspool = \"spool\"\nreinject = \""+closedPort(t)+"\"\n")
	if out, code := qscan(t, "lint", "-c", cfg); code == 0 || !strings.Contains(out, "smtp reinject ") {
		t.Errorf("lint with the re-injection listener down = %d:\n%s", code, out)
	}
}
