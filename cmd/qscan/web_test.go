package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
)

type listSrc map[string][]string

func (l listSrc) ListEntries(ctx context.Context, list string) ([]store.ListEntry, error) {
	var out []store.ListEntry
	for _, p := range l[list] {
		out = append(out, store.ListEntry{List: list, Pattern: p})
	}
	return out, nil
}

// The desk's lists join the configuration's definitely_not_spam and
// definitely_spam.
func TestWithLists(t *testing.T) {
	l := &web.Lists{Source: listSrc{"whitelist": {"friend.example"}, "blacklist": {"192.0.2.0/24"}}}
	if err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	never := func(*message.Message) bool { return false }
	ns, is := withLists(never, nil, l)
	msg := func(sender, ip string) *message.Message {
		m := &message.Message{}
		m.Envelope.Sender, m.Envelope.ClientIP = sender, netip.MustParseAddr(ip)
		return m
	}
	if !ns(msg("a@friend.example", "198.51.100.1")) || ns(msg("a@other.example", "198.51.100.1")) {
		t.Error("whitelist not consulted as definitely not spam")
	}
	if !is(msg("a@other.example", "192.0.2.9")) || is(msg("a@other.example", "198.51.100.1")) {
		t.Error("blacklist not consulted as definitely spam")
	}
	ns, _ = withLists(func(*message.Message) bool { return true }, nil, nil)
	if !ns(msg("x@y.example", "198.51.100.1")) {
		t.Error("without desk lists the configuration's setting is lost")
	}
}

// A digest is queued as qscan queues its reports: null sender, the
// user's address as the one recipient.
func TestQueueDigests(t *testing.T) {
	out := t.TempDir()
	ds := []web.Digest{{To: "bob@example.test", Entries: 1, Mail: notify.Mail{From: "postmaster@example.test", To: []string{"bob@example.test"}, Subject: "Quarantined mail", Body: []byte("list\n")}}}
	var kicked []string
	code := queueDigests(out, ds, notify.MailOptions{Now: time.Now}, false, func(id string) { kicked = append(kicked, id) })
	if code != exitOK || len(kicked) != 1 {
		t.Fatalf("queueDigests = %d, kicked %v", code, kicked)
	}
	f, err := os.Open(filepath.Join(out, sendmail.QfName(kicked[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qf, err := sendmail.ParseQf(f, sendmail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if qf.Sender() != "" || len(qf.Recipients()) != 1 || qf.Recipients()[0].Addr != "bob@example.test" {
		t.Errorf("queued from %q to %v", qf.Sender(), qf.Recipients())
	}
	if s, _ := qf.Header("Subject"); !strings.Contains(s, "Quarantined mail") {
		t.Errorf("Subject = %q", s)
	}
}

// The learn buttons teach the configured spam engines: every spamd by
// TELL and rspamd's controller, each the whole message; none without one.
func TestWebLearner(t *testing.T) {
	var mu sync.Mutex
	var told []string
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(io.LimitReader(c, 4096)) // the client half-closes
			mu.Lock()
			told = append(told, string(b))
			mu.Unlock()
			io.WriteString(c, "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n")
			c.Close()
		}
	}()
	var learnt []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		learnt = append(learnt, r.URL.Path+" "+string(b))
		mu.Unlock()
		io.WriteString(w, `{"success":true}`)
	}))
	defer hs.Close()

	c := config.Defaults().Spam
	c.Engines = []string{"dnsbl"}
	if l, err := webLearner(c); err != nil || l != nil {
		t.Errorf("no spamd, no rspamd: learner %v, %v; want none", l, err)
	}
	c.Engines = []string{"dnsbl", "spamd", "rspamd"}
	c.Spamd.Address, c.Rspamd.ControllerURL = ln.Addr().String(), hs.URL
	l, err := webLearner(c)
	if err != nil || l == nil {
		t.Fatalf("webLearner = %v, %v", l, err)
	}
	msg := filepath.Join(t.TempDir(), "message.eml")
	os.WriteFile(msg, []byte("Subject: pills\r\n\r\nbuy\r\n"), 0o600)
	f, err := os.Open(msg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := l.Learn(context.Background(), true, f); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || !strings.HasPrefix(told[0], "TELL SPAMC/1.5\r\nMessage-class: spam\r\n") || !strings.HasSuffix(told[0], "\r\n\r\nSubject: pills\r\n\r\nbuy\r\n") {
		t.Errorf("spamd was told %q", told)
	}
	if len(learnt) != 1 || learnt[0] != "/learnspam Subject: pills\r\n\r\nbuy\r\n" {
		t.Errorf("rspamd learnt %q", learnt)
	}
}
