package web

import (
	"bytes"
	"fmt"
	"mime"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

// DigestOptions shape the digest mails.
type DigestOptions struct {
	Key     []byte        // [web] digest_key
	TTL     time.Duration // [web] digest_link_ttl; default DefaultDigestTTL
	BaseURL string        // [web] base_url, e.g. "https://mail.example.org:8443"
	Now     time.Time
	From    string // the digest's From address, e.g. the postmaster
	// MaxEntries bounds the messages listed in one digest (default 200).
	MaxEntries int
}

// Digest is the digest mail of one address.
type Digest struct {
	To      string
	Entries int
	Mail    notify.Mail
}

type digestItem struct {
	Date, Sender, Subject, Reason, Link string
}

var digestText = template.Must(template.New("digest").Parse(`Quarantined mail for {{.To}}

These messages to you were held back by the mail scanner. If one of
them is a message you want, open its release link: a page asks you to
confirm, and the message is then delivered to you. Each link works once
and until {{.Until}}.
{{range .Items}}
Date:    {{.Date}}
From:    {{.Sender}}
Subject: {{.Subject}}
Reason:  {{.Reason}}
Release: {{.Link}}
{{end}}{{if .More}}
... and {{.More}} more: ask your postmaster.
{{end}}`))

// Digests builds one digest per address of users that has held-back
// messages among entries: whole messages kept in the quarantine, complete
// and not yet released. Each message gets a signed release link for that
// address.
func Digests(users []store.User, entries []quarantine.Entry, o DigestOptions) ([]Digest, error) {
	if len(o.Key) == 0 || o.BaseURL == "" || o.From == "" {
		return nil, fmt.Errorf("web digest: [web] digest_key, base_url and a sender address are required")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultDigestTTL
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 200
	}
	byAddr := map[string][]quarantine.Entry{}
	for _, u := range users {
		for _, a := range lowerAll(u.Addresses) {
			byAddr[a] = nil
		}
	}
	for _, e := range entries {
		if !e.Whole || e.Incomplete || len(e.Released) > 0 || !quarantine.ValidID(e.ID) {
			continue
		}
		seen := map[string]bool{}
		for _, r := range e.Recipients {
			a := bare(r)
			if _, ok := byAddr[a]; ok && !seen[a] {
				seen[a] = true
				byAddr[a] = append(byAddr[a], e)
			}
		}
	}
	addrs := make([]string, 0, len(byAddr))
	for a, es := range byAddr {
		if len(es) > 0 && quarantine.CheckAddress(a) == nil {
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	expires := o.Now.Add(o.TTL)
	base := strings.TrimSuffix(o.BaseURL, "/")
	var out []Digest
	for _, a := range addrs {
		es := byAddr[a]
		sort.Slice(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
		more := 0
		if len(es) > o.MaxEntries {
			more, es = len(es)-o.MaxEntries, es[:o.MaxEntries]
		}
		var items []digestItem
		for _, e := range es {
			items = append(items, digestItem{
				Date: e.Time.Local().Format("2006-01-02 15:04"), Sender: oneLine(e.Sender, 200),
				Subject: oneLine(decodeSubject(e.Subject), 200), Reason: oneLine(e.Reason, 200),
				Link: base + "/d/" + SignLink(o.Key, Link{ID: e.ID, Address: a, Expires: expires}),
			})
		}
		var b bytes.Buffer
		if err := digestText.Execute(&b, map[string]any{"To": a, "Items": items, "More": more,
			"Until": expires.Local().Format("2006-01-02 15:04")}); err != nil {
			return nil, fmt.Errorf("web digest %s: %w", a, err)
		}
		subject := fmt.Sprintf("Quarantined mail: %d message(s) held back", len(es)+more)
		out = append(out, Digest{To: a, Entries: len(es) + more,
			Mail: notify.Mail{From: o.From, FromName: "qscan", To: []string{a}, Subject: subject, Body: b.Bytes()}})
	}
	return out, nil
}

// decodeSubject decodes RFC 2047 words; undecodable text stays as it is.
func decodeSubject(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// oneLine drops control characters and bounds s to max bytes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}
