// Command smtpsend submits one message over SMTP with full control of the
// MAIL and RCPT parameters (DSN, 8BITMIME, AUTH), which swaks 2020 lacks.
// It is used only by regen.sh to make real sendmail write golden qf files;
// it lives under testdata so that go build ./... ignores it.
//
// Usage: smtpsend -addr 127.0.0.1:2591 -helo h -from '<a@b> BODY=8BITMIME'
//
//	-rcpt '<c@d> NOTIFY=SUCCESS' -rcpt '<e@f>' [-auth user:pass] < message
//
// It prints the queue ID taken from the reply to the final dot.
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:2591", "server address")
	helo := flag.String("helo", "client.example.test", "EHLO argument")
	from := flag.String("from", "<>", "MAIL FROM argument, with parameters")
	auth := flag.String("auth", "", "user:pass for AUTH PLAIN")
	var rcpts list
	flag.Var(&rcpts, "rcpt", "RCPT TO argument, with parameters (repeatable)")
	flag.Parse()
	if err := run(*addr, *helo, *from, *auth, rcpts); err != nil {
		fmt.Fprintln(os.Stderr, "smtpsend:", err)
		os.Exit(1)
	}
}

func run(addr, helo, from, auth string, rcpts []string) error {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(90 * time.Second))
	c := textproto.NewConn(conn)
	if _, _, err := c.ReadResponse(220); err != nil {
		return err
	}
	if err := cmd(c, 250, "EHLO %s", helo); err != nil {
		return err
	}
	if auth != "" {
		user, pass, _ := strings.Cut(auth, ":")
		tok := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		if err := cmd(c, 235, "AUTH PLAIN %s", tok); err != nil {
			return err
		}
	}
	if err := cmd(c, 250, "MAIL FROM:%s", from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := cmd(c, 250, "RCPT TO:%s", r); err != nil {
			return err
		}
	}
	if err := cmd(c, 354, "DATA"); err != nil {
		return err
	}
	w := bufio.NewWriter(conn)
	for _, l := range strings.SplitAfter(string(body), "\n") {
		if l == "" {
			continue
		}
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, ".") {
			l = "." + l
		}
		w.WriteString(l + "\r\n")
	}
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return err
	}
	_, msg, err := c.ReadResponse(250)
	if err != nil {
		return err
	}
	// "2.0.0 6AM876nc005638 Message accepted for delivery"
	f := strings.Fields(msg)
	if len(f) < 2 {
		return fmt.Errorf("no queue id in %q", msg)
	}
	fmt.Println(f[1])
	return cmd(c, 221, "QUIT")
}

func cmd(c *textproto.Conn, code int, format string, args ...any) error {
	id, err := c.Cmd(format, args...)
	if err != nil {
		return err
	}
	c.StartResponse(id)
	defer c.EndResponse(id)
	_, msg, err := c.ReadResponse(code)
	if err != nil {
		return fmt.Errorf("%s: %w (%s)", strings.Fields(format)[0], err, msg)
	}
	return nil
}
