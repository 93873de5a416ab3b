package stackutil

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/qscan/qscan/pkg/postfix"
)

// Postfix is the test stack's Postfix 3.7 (scripts/teststack.d/postfix.sh):
// Debian's package unpacked into a private root, its own configuration and
// queue, smtpd on loopback, header_checks HOLD on every message, relayhost
// the sink.
type Postfix struct {
	SMTP     string // POSTFIX_SMTP: smtpd, 127.0.0.1:port
	SMTP6    string // POSTFIX_SMTP6: smtpd on [::1]:port; "" without IPv6
	Root     string // POSTFIX_ROOT: the unpacked package
	Config   string // POSTFIX_CONFIG: config_directory
	QueueDir string // POSTFIX_QUEUE: queue_directory
	LibPath  string // POSTFIX_LD_LIBRARY_PATH: its shared libraries
	SASLUser string // POSTFIX_SASL_USER
	SASLPass string // POSTFIX_SASL_PASS
}

// PostfixEnv reads the Postfix variables of `scripts/teststack env`.
func PostfixEnv() (Postfix, error) {
	var p Postfix
	out, err := run("env")
	if err != nil {
		return p, err
	}
	vars, err := parseEnv(out)
	if err != nil {
		return p, err
	}
	for name, field := range map[string]*string{"POSTFIX_SMTP": &p.SMTP, "POSTFIX_ROOT": &p.Root,
		"POSTFIX_CONFIG": &p.Config, "POSTFIX_QUEUE": &p.QueueDir, "POSTFIX_LD_LIBRARY_PATH": &p.LibPath,
		"POSTFIX_SASL_USER": &p.SASLUser, "POSTFIX_SASL_PASS": &p.SASLPass} {
		if *field = vars[name]; *field == "" {
			return p, fmt.Errorf("stackutil postfix env: %s missing (no scripts/teststack.d/postfix.sh?)", name)
		}
	}
	p.SMTP6 = vars["POSTFIX_SMTP6"]
	return p, nil
}

// RequirePostfix makes sure the sink and Postfix run (starting them as
// root; skipping the test otherwise) and returns Postfix's settings.
func RequirePostfix(tb testing.TB) Postfix {
	tb.Helper()
	Require(tb, "sink", "postfix")
	p, err := PostfixEnv()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Env is what Postfix's programs need in their environment.
func (p Postfix) Env() []string { return []string{"LD_LIBRARY_PATH=" + p.LibPath} }

// Tool is the command that runs one of Postfix's usr/sbin programs (postcat,
// postqueue, postsuper, postkick, postconf) with -c Config and args.
func (p Postfix) Tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(p.Root, "usr", "sbin", name), append([]string{"-c", p.Config}, args...)...)
	cmd.Env = append(os.Environ(), p.Env()...)
	return cmd
}

// Run runs Tool and returns its standard output; standard error goes
// into the error.
func (p Postfix) Run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := p.Tool(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// Queue returns the instance's queue settings, as postconf gives them.
func (p Postfix) Queue() (postfix.Queue, error) {
	return postfix.ReadQueue(context.Background(), filepath.Join(p.Root, "usr", "sbin", "postconf"), p.Config, p.Env())
}

// Kicker returns the kick of this instance's queue manager.
func (p Postfix) Kicker() postfix.Kicker {
	return postfix.Kicker{Postkick: filepath.Join(p.Root, "usr", "sbin", "postkick"), ConfigDir: p.Config, Env: p.Env()}
}

// WaitHeld waits until the hold queue has at least n complete files and
// returns them.
func (p Postfix) WaitHeld(n int, timeout time.Duration) ([]postfix.Entry, error) {
	q, err := p.Queue()
	if err != nil {
		return nil, err
	}
	var es []postfix.Entry
	err = poll(timeout, func() (bool, error) {
		all, err := q.List(postfix.Hold)
		es = es[:0]
		for _, e := range all {
			if e.Ready {
				es = append(es, e)
			}
		}
		return len(es) >= n, err
	})
	return es, err
}

// Envelope is one SMTP transaction for SubmitEnvelope: what a client can
// say beyond the message.
type Envelope struct {
	From       string
	To         []string
	Mail       smtp.MailOptions
	Rcpt       []smtp.RcptOptions // per recipient, by index; missing ones get none
	XClient    string             // XCLIENT arguments ("ADDR=IPv6:2001:db8::25 NAME=x"), sent after EHLO
	SASL       [2]string          // user, password: AUTH PLAIN when set
	Helo       string             // default "stackutil.example.test"
	BinaryData bool               // send msg as it is (no LF to CRLF conversion)
}

// SubmitEnvelope sends msg to addr in one SMTP transaction with the DSN,
// SMTPUTF8, XCLIENT and AUTH options of env. Bare LF line ends of msg are
// sent as CRLF.
func SubmitEnvelope(addr string, env Envelope, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	helo := env.Helo
	if helo == "" {
		helo = "stackutil.example.test"
	}
	if env.XClient != "" {
		if err := xclient(conn, helo, env.XClient); err != nil {
			return fmt.Errorf("stackutil submit %s: %w", addr, err)
		}
	}
	c := smtp.NewClient(conn)
	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	if env.SASL[0] != "" {
		if err := c.Auth(sasl.NewPlainClient("", env.SASL[0], env.SASL[1])); err != nil {
			return fmt.Errorf("stackutil submit %s: auth: %w", addr, err)
		}
	}
	if err := c.Mail(env.From, &env.Mail); err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	for i, to := range env.To {
		var o *smtp.RcptOptions
		if i < len(env.Rcpt) {
			o = &env.Rcpt[i]
		}
		if err := c.Rcpt(to, o); err != nil {
			return fmt.Errorf("stackutil submit %s: rcpt %s: %w", addr, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	if !env.BinaryData && !bytes.Contains(msg, []byte("\r\n")) {
		msg = bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	return c.Quit()
}

// xclient greets the server, says EHLO and sends XCLIENT; the server's
// answer is a new greeting, left for the SMTP client to read.
func xclient(conn net.Conn, helo, args string) error {
	r := bufio.NewReader(conn)
	reply := func(code string) error {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, code) {
				return fmt.Errorf("xclient: unexpected reply %q", strings.TrimSpace(line))
			}
			if len(line) > 3 && line[3] == ' ' {
				return nil
			}
		}
	}
	if err := reply("220"); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", helo); err != nil {
		return err
	}
	if err := reply("250"); err != nil {
		return err
	}
	if r.Buffered() > 0 {
		return fmt.Errorf("xclient: server sent more than its EHLO reply")
	}
	_, err := fmt.Fprintf(conn, "XCLIENT %s\r\n", args)
	return err
}
