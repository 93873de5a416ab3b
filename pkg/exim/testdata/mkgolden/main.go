// Command mkgolden submits the golden test messages to the test stack's
// exim-in over SMTP and copies the -H and -D files the real Exim 4.96
// wrote into pkg/exim/testdata as <name>.H and <name>.D.
//
//	eval "$(QSCAN_STACK_PORTS=300 scripts/teststack env)"
//	go run ./pkg/exim/testdata/mkgolden -out pkg/exim/testdata
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type rcpt struct {
	addr string
	opts *smtp.RcptOptions
}

type golden struct {
	name   string
	ipv6   bool
	auth   bool
	freeze bool // exim -Mf after reception: Exim rewrites the -H
	from   string
	mail   *smtp.MailOptions
	rcpts  []rcpt
	data   string
}

func plain(addrs ...string) []rcpt {
	var out []rcpt
	for _, a := range addrs {
		out = append(out, rcpt{addr: a})
	}
	return out
}

func main() {
	out := flag.String("out", "pkg/exim/testdata", "where to write <name>.H and <name>.D")
	flag.Parse()
	addr, addr6, spool := os.Getenv("EXIM_SMTP"), os.Getenv("EXIM_SMTP6"), os.Getenv("EXIM_SPOOL_IN")
	if addr == "" || spool == "" {
		log.Fatal("EXIM_SMTP and EXIM_SPOOL_IN unset: eval \"$(scripts/teststack env)\"")
	}
	long := "X-Long: start"
	for i := 0; i < 60; i++ {
		long += fmt.Sprintf("\r\n\tcontinuation line %02d of a long folded header, padded to some length", i)
	}
	cases := []golden{
		{name: "multi", from: "alice@sender.example", rcpts: plain("bob@example.test", "carol@example.test", "dave@example.test"),
			data: "From: Alice <alice@sender.example>\r\nTo: bob@example.test, carol@example.test\r\nCc: dave@example.test\r\nReply-To: alice@sender.example\r\nSender: alice@sender.example\r\nSubject: several recipients\r\nMessage-ID: <multi@sender.example>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n\r\nHello all.\r\n.a line with a leading dot\r\n\r\nlast line\r\n"},
		{name: "dsn", from: "alice@sender.example",
			mail: &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "QQ314159"},
			rcpts: []rcpt{
				{addr: "bob@example.test", opts: &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure}, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "bob@orig.example"}},
				{addr: "carol@example.test", opts: &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyNever}}},
				{addr: "dave@example.test", opts: &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyDelayed}}},
			},
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: dsn\r\n\r\nbody\r\n"},
		{name: "null", from: "", rcpts: plain("bob@example.test"),
			data: "From: MAILER-DAEMON@sender.example\r\nTo: bob@example.test\r\nSubject: Undelivered Mail\r\nAuto-Submitted: auto-replied\r\n\r\nA bounce.\r\n"},
		{name: "utf8", from: "jörg@sender.example", mail: &smtp.MailOptions{UTF8: true, Body: smtp.Body8BitMIME}, rcpts: plain("zoë@example.test"),
			data: "From: Jörg <jörg@sender.example>\r\nTo: zoë@example.test\r\nSubject: grüße aus Köln\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSchöne Grüße, ½ € ✓\r\n"},
		{name: "eightbit", from: "alice@sender.example", mail: &smtp.MailOptions{Body: smtp.Body8BitMIME}, rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: latin-1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe \xa9 \xff\r\n"},
		{name: "folded", from: "alice@sender.example", rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test,\r\n  carol@example.test\r\nSubject: a subject that is folded\r\n  over two lines\r\n" + long + "\r\n\r\nbody\r\n"},
		{name: "ipv6", ipv6: true, from: "alice@sender.example", rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: over IPv6\r\n\r\nbody\r\n"},
		{name: "auth", auth: true, from: "alice@sender.example", mail: &smtp.MailOptions{Auth: ptr("alice@sender.example")}, rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: authenticated\r\n\r\nbody\r\n"},
		{name: "acl", from: "alice@sender.example", rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nX-Qscan-Acl-Test: yes\r\nX-Remove-Me: gone\r\nSubject: acl variables\r\n\r\nbody\r\n"},
		{name: "frozen", freeze: true, from: "alice@sender.example", rcpts: plain("bob@example.test"),
			data: "From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: frozen by exim -Mf\r\n\r\nbody\r\n"},
		{name: "noeol", from: "alice@sender.example", rcpts: plain("bob@example.test"),
			data: "Subject: no final line end, no From or Date\r\n\r\nlast line without CRLF"},
	}
	for _, c := range cases {
		a := addr
		if c.ipv6 {
			a = addr6
		}
		if err := submit(a, c); err != nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		id, err := waitQueued(filepath.Join(spool, "input"))
		if err != nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		if c.freeze {
			cmd := exec.Command(os.Getenv("EXIM_BIN"), "-C", os.Getenv("EXIM_CONF_IN"), "-Mf", id)
			if out, err := cmd.CombinedOutput(); err != nil {
				log.Fatalf("%s: exim -Mf: %v: %s", c.name, err, out)
			}
		}
		for _, suf := range []string{"H", "D"} {
			b, err := os.ReadFile(filepath.Join(spool, "input", id+"-"+suf))
			if err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(*out, c.name+"."+suf), b, 0o644); err != nil {
				log.Fatal(err)
			}
			os.Remove(filepath.Join(spool, "input", id+"-"+suf))
		}
		fmt.Printf("%s: %s\n", c.name, id)
	}
}

func ptr(s string) *string { return &s }

func submit(addr string, c golden) error {
	cl, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Hello("client.example.test"); err != nil {
		return err
	}
	if c.auth {
		if err := cl.Auth(sasl.NewPlainClient("", "qscan", "secret")); err != nil {
			return err
		}
	}
	if err := cl.Mail(c.from, c.mail); err != nil {
		return err
	}
	for _, r := range c.rcpts {
		if err := cl.Rcpt(r.addr, r.opts); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(c.data)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// waitQueued waits for the one -H file in dir (the spool is empty before
// each case) and returns its ID.
func waitQueued(dir string) (string, error) {
	for i := 0; i < 100; i++ {
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if id, ok := strings.CutSuffix(de.Name(), "-H"); ok {
				b, _ := os.ReadFile(filepath.Join(dir, de.Name()))
				if bytes.HasPrefix(b, []byte(id)) {
					return id, nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("nothing queued in %s", dir)
}
