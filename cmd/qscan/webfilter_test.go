package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/spool"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
)

// TestWebReleaseFilter: in the filter layout (no outgoing queue) a
// digest link's release, through the desk's handler, re-injects the
// quarantined message to the downstream MTA.
func TestWebReleaseFilter(t *testing.T) {
	if verifyPassword == nil {
		t.Skip("this build has no password check: no web desk")
	}
	sk, addr := startSink(t)
	root := t.TempDir()
	c := config.Defaults()
	c.SMTP.Listen = config.StringList{"127.0.0.1:0"}
	c.SMTP.Reinject = addr
	c.SMTP.Spool = filepath.Join(root, "spool")
	c.Queue.Outgoing, c.Queue.Incoming, c.Queue.Kick = "", nil, true
	c.Quarantine.Dir = filepath.Join(root, "quarantine")
	c.Headers.OrgName = "Test"
	c.Web.DigestKey = "digest key"
	c.Notify.Hostname = "mx.example.test"

	st, err := store.Open(filepath.Join(root, "qscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	env := spool.Envelope{Received: time.Now(), Listener: "127.0.0.1:10024", Protocol: "ESMTP", Client: "127.0.0.1:4000", Helo: "mta",
		Sender: "alice@sender.example", Recipients: []spool.Recipient{{Addr: "bob@example.test"}, {Addr: "carol@example.test"}}}
	ctl, err := env.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: alice@sender.example\nTo: bob@example.test\nSubject: held for bob\n\nthe body\n"
	q := &quarantine.Quarantine{Dir: c.Quarantine.Dir, Index: st.QuarantineIndex()}
	dir, err := q.Store(quarantine.Item{
		Entry: quarantine.Entry{QueueID: "6AO1YNQ5022619", Time: time.Now(), Sender: env.Sender,
			Recipients: []string{"bob@example.test", "carol@example.test"}, Subject: "held for bob", Reason: "Eicar-Test-Signature found", Whole: true},
		Qf: ctl, Df: []byte(msg),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)

	log := logrus.New()
	log.SetOutput(io.Discard)
	srv, err := newWebServer(&c, log, st, st, nil)
	if err != nil {
		t.Fatalf("newWebServer in the filter layout: %v", err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	link := hs.URL + "/d/" + web.SignLink([]byte(c.Web.DigestKey), web.Link{ID: id, Address: "bob@example.test", Expires: time.Now().Add(time.Hour)})
	resp, err := cl.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET link = %d:\n%s", resp.StatusCode, page)
	}
	resp, err = cl.PostForm(link, url.Values{"csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "released to bob@example.test") {
		t.Fatalf("POST link = %d:\n%s", resp.StatusCode, page)
	}
	got := sk.got()
	if len(got) != 1 {
		t.Fatalf("downstream got %d messages, want the release", len(got))
	}
	if !strings.Contains(got[0], "X-Test-QScan-Released: ") || !strings.Contains(got[0], "Subject: held for bob") || !strings.Contains(got[0], "the body") {
		t.Errorf("re-injected:\n%s", got[0])
	}
	if f := sk.from; len(f) != 1 || f[0] != "alice@sender.example" {
		t.Errorf("re-injected from %v, want the original sender", f)
	}
}

// TestDigestsFilter: in the filter layout `qscan digest` re-injects each
// digest (from the null sender) instead of writing an outgoing queue.
func TestDigestsFilter(t *testing.T) {
	sk, addr := startSink(t)
	c := config.Defaults()
	c.SMTP.Listen = config.StringList{"127.0.0.1:0"}
	c.SMTP.Reinject = addr
	send, closeSend, err := digestSender(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSend()
	ds := []web.Digest{{To: "bob@example.test", Entries: 1, Mail: notify.Mail{From: "postmaster@example.test", To: []string{"bob@example.test"}, Subject: "Quarantined mail", Body: []byte("list\n")}}}
	if code := putDigests(send, ds, notify.MailOptions{Now: time.Now}, false, func(string) {}); code != exitOK {
		t.Fatalf("putDigests = %d", code)
	}
	got := sk.got()
	if len(got) != 1 || !strings.Contains(got[0], "Quarantined mail") {
		t.Fatalf("downstream got %q, want the digest", got)
	}
	if f := sk.from; len(f) != 1 || f[0] != "" {
		t.Errorf("digest sent from %q, want the null sender", f)
	}
}
