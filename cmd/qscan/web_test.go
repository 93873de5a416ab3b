package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
