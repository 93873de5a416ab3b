package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
)

// cmdDigest runs `qscan digest`: one mail per user address with messages
// held in the quarantine since --since, each with a signed release link,
// queued in the outgoing queue as qscan queues its reports (null sender).
func cmdDigest(args []string) int {
	fs := newFlagSet("digest")
	cfgPath := fs.String("c", "", "configuration file")
	since := fs.String("since", "24h", "list the messages quarantined since then: 24h, 7d, 2026-11-01")
	dry := fs.Bool("n", false, "print the digests instead of queueing them")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	now := time.Now()
	from, err := quarSince(*since, now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest:", err)
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	if c.Web.DigestKey == "" || c.Web.BaseURL == "" {
		fmt.Fprintln(os.Stderr, "qscan digest: set [web] digest_key and base_url first")
		return exitConfig
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest:", err)
		return exitFail
	}
	defer st.Close()
	ws, err := openDesk(c, st)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest:", err)
		return exitFail
	}
	if ws != sharedStore(st) {
		defer ws.Close()
	}
	users, err := ws.Users(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest: users:", err)
		return exitFail
	}
	entries, err := (&quarantine.Quarantine{Dir: c.Quarantine.Dir}).List(from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest: quarantine:", err)
		return exitFail
	}
	host := c.Notify.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	sender := c.Notify.Postmaster.Plain
	if sender == "" {
		sender = "postmaster@" + host
	}
	ds, err := web.Digests(users, entries, web.DigestOptions{Key: []byte(c.Web.DigestKey), TTL: c.Web.DigestLinkTTL.D(),
		BaseURL: c.Web.BaseURL, Now: now, From: sender})
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan digest:", err)
		return exitFail
	}
	kick := func(id string) {
		if c.Queue.Kick {
			quarKick(c.Queue, id)
		}
	}
	mo := notify.MailOptions{Now: time.Now, Hostname: host, OrgName: c.Headers.OrgName}
	if c.SMTP.On() && !*dry {
		// The filter has no outgoing queue: re-injected (filter.go).
		send, closeSend, err := digestSender(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qscan digest:", err)
			return exitFail
		}
		defer closeSend()
		return putDigests(send, ds, mo, false, func(string) {})
	}
	return queueDigests(c.Queue.Outgoing, ds, mo, *dry, kick)
}

// queueDigests queues (or with dry prints) each digest in the outgoing
// queue; a digest that cannot be queued is reported and the others still go.
func queueDigests(outgoing string, ds []web.Digest, mo notify.MailOptions, dry bool, kick func(string)) int {
	var put func(raw []byte, to []string) (string, error)
	if !dry {
		out, err := sendmail.OpenQueue(outgoing)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qscan digest:", err)
			return exitFail
		}
		gen := sendmail.NewIDGen(time.Now, os.Getpid(), rand.IntN(3600))
		put = func(raw []byte, to []string) (string, error) {
			return out.Enqueue(gen, raw, "", to, sendmail.NewOpts{Time: mo.Now()})
		}
	}
	return putDigests(put, ds, mo, dry, kick)
}

// putDigests hands each digest to put (or with dry prints it).
func putDigests(put func(raw []byte, to []string) (string, error), ds []web.Digest, mo notify.MailOptions, dry bool, kick func(string)) int {
	code := exitOK
	for _, d := range ds {
		raw, err := d.Mail.Bytes(mo)
		if err != nil {
			fmt.Fprintf(os.Stderr, "qscan digest %s: %v\n", d.To, err)
			code = exitFail
			continue
		}
		if dry {
			fmt.Printf("%s\n", raw)
			continue
		}
		id, err := put(raw, d.Mail.To)
		if err != nil {
			fmt.Fprintf(os.Stderr, "qscan digest %s: %v\n", d.To, err)
			code = exitFail
			continue
		}
		fmt.Printf("digest to %s: %d message(s), queued as %s\n", d.To, d.Entries, id)
		kick(id)
	}
	return code
}
