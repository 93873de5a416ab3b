package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// TestDangerousThroughQueue: with the shipped configuration, a message
// with a form, an iframe, a script, a web bug and a link that says
// www.paypal.com but leads elsewhere goes out with all five neutralised,
// one phishing banner per body, {Fraud?} in the subject, the phishing
// header, its attachment byte-identical, and a postmaster report naming
// each.
func TestDangerousThroughQueue(t *testing.T) {
	c, _ := shippedConfig(t, "")
	raw, err := os.ReadFile("testdata/dangerous.eml")
	if err != nil {
		t.Fatal(err)
	}
	header, body := throughQueue(t, c, raw)
	fs := fieldsOf(header)
	if s := values(fs, "Subject"); len(s) != 1 || !strings.Contains(s[0], "{Fraud?}") {
		t.Errorf("Subject = %q, want {Fraud?}", s)
	}
	if v := values(fs, "X-yoursite-QScan-Phishing"); len(v) != 1 {
		t.Errorf("X-yoursite-QScan-Phishing = %q", v)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(append(append(append([]byte{}, header...), '\n'), body...)))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<form", "<iframe", "<script", "tracker.example", "onload"} {
		if strings.Contains(env.HTML, bad) {
			t.Errorf("delivered HTML still holds %q:\n%s", bad, env.HTML)
		}
	}
	for _, want := range []string{"[qscan: form removed]", "[qscan: iframe removed]", "[qscan: script removed]",
		"data:image/gif;base64", "this link leads to evil.example", "Grüße"} {
		if !strings.Contains(env.HTML, want) {
			t.Errorf("delivered HTML lacks %q:\n%s", want, env.HTML)
		}
	}
	if n := strings.Count(env.HTML, "possible fraud attempt"); n != 1 {
		t.Errorf("HTML has %d banners, want 1", n)
	}
	if n := strings.Count(env.Text, "possible fraud attempt"); n != 1 || !strings.Contains(env.Text, "leads to 198.51.100.7") {
		t.Errorf("text has %d banners or no link warning:\n%s", n, env.Text)
	}
	_, origBody := splitRaw(raw)
	pdf := origBody[bytes.Index(origBody, []byte("--outer\nContent-Type: application/pdf")):]
	if !bytes.Contains(body, pdf) {
		t.Errorf("the attachment is not byte-identical:\n%s", body)
	}
	report := postmasterReport(t, c.Queue.Outgoing)
	for _, want := range []string{"form", "iframe", "script", "Web bug", "www.paypal.com"} {
		if !strings.Contains(report, want) {
			t.Errorf("postmaster report does not name %q:\n%s", want, report)
		}
	}
}

// postmasterReport returns the text of the other messages queued.
func postmasterReport(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "df*"))
	var b strings.Builder
	for _, n := range names {
		if strings.HasSuffix(n, "6AM876nc000042") {
			continue
		}
		d, _ := os.ReadFile(n)
		b.Write(d)
	}
	if b.Len() == 0 {
		t.Error("no postmaster report queued")
	}
	return b.String()
}

// TestSignCleanOnce: with sign_clean, a clean message gets the signature
// once, and a message that carries it already is not signed again.
func TestSignCleanOnce(t *testing.T) {
	c, _ := shippedConfig(t, "")
	c.Signature.SignClean = config.Setting{Raw: "yes", Setting: ruleset.Setting{Plain: "yes"}}
	raw := []byte("From: a@example.org\nTo: b@example.test\nSubject: hi\nMessage-ID: <3@example.org>\n\nHello.\n")
	h, b := throughQueue(t, c, raw)
	if n := strings.Count(string(b), "believed to be clean"); n != 1 {
		t.Fatalf("signed %d times, want 1:\n%s", n, b)
	}
	c2, _ := shippedConfig(t, "")
	c2.Signature.SignClean = c.Signature.SignClean
	_, b2 := throughQueue(t, c2, append(append(bytes.TrimRight(h, "\n"), "\n\n"...), b...))
	if n := strings.Count(string(b2), "believed to be clean"); n != 1 {
		t.Errorf("a signed message signed again: %d signatures:\n%s", n, b2)
	}
}

// TestSitesRefreshedOnCheckPath: a bad-site list changed on disk is used
// by the next message's options, without a reload, once sites_refresh
// has passed.
func TestSitesRefreshedOnCheckPath(t *testing.T) {
	c, _ := shippedConfig(t, "")
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("bad.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Phishing.BadSites, c.Phishing.SitesRefresh = []string{bad}, 1 // 1ns: every message looks
	d, err := newDangerous(c)
	if err != nil {
		t.Fatal(err)
	}
	m := &message.Message{}
	if o := d.options(m); !o.Sites.Bad("bad.example") || o.Sites.Bad("new.example") {
		t.Fatal("initial list wrong")
	}
	if err := os.WriteFile(bad, []byte("bad.example\nnew.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if o := d.options(m); !o.Sites.Bad("new.example") {
		t.Error("the changed list was not read on the check path")
	}
	c.Phishing.SitesRefresh = 0 // off
	if d, err = newDangerous(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("bad.example\nnew.example\nthird.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.options(m)
	if o := d.options(m); o.Sites.Bad("third.example") {
		t.Error("sites_refresh = 0 still read the list")
	}
}
