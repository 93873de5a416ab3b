package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

func TestLinkSignVerify(t *testing.T) {
	key := []byte("k")
	l := Link{ID: "20261201/6B1BxA00004242", Address: "bob@example.test", Expires: t0.Add(time.Hour)}
	tok := SignLink(key, l)
	got, used, err := VerifyLink(key, tok, t0)
	if err != nil || got.ID != l.ID || got.Address != l.Address || !got.Expires.Equal(l.Expires) || used == "" {
		t.Fatalf("VerifyLink = %+v, %q, %v", got, used, err)
	}
	if _, _, err := VerifyLink(key, tok, t0.Add(time.Hour)); !errors.Is(err, ErrExpiredLink) {
		t.Errorf("at expiry: %v, want ErrExpiredLink", err)
	}
	if _, _, err := VerifyLink([]byte("other"), tok, t0); !errors.Is(err, ErrBadLink) {
		t.Errorf("another key: %v, want ErrBadLink", err)
	}
	if _, _, err := VerifyLink(nil, tok, t0); !errors.Is(err, ErrBadLink) {
		t.Errorf("no key: %v, want ErrBadLink", err)
	}
	// A longer expiry, the same signature: refused.
	p, sig, _ := strings.Cut(tok, ".")
	forged := strings.Replace(p, "A", "B", 1) + "." + sig
	if _, _, err := VerifyLink(key, forged, t0); !errors.Is(err, ErrBadLink) {
		t.Errorf("altered payload: %v, want ErrBadLink", err)
	}
	// A path as the entry ID, signed with the right key: refused.
	for _, id := range []string{"../../etc/passwd", "20261201/../../x", "20261201/a/b"} {
		tok := SignLink(key, Link{ID: id, Address: "bob@example.test", Expires: t0.Add(time.Hour)})
		if _, _, err := VerifyLink(key, tok, t0); !errors.Is(err, ErrBadLink) {
			t.Errorf("ID %q: %v, want ErrBadLink", id, err)
		}
	}
	if _, _, err := VerifyLink(key, strings.Repeat("a", maxToken+1), t0); !errors.Is(err, ErrBadLink) {
		t.Errorf("over-long token: %v", err)
	}
}

func FuzzVerifyLink(f *testing.F) {
	key := []byte("k")
	f.Add(SignLink(key, Link{ID: "20261201/6B1BxA00004242", Address: "bob@example.test", Expires: t0}))
	f.Add("a.b")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		l, _, err := VerifyLink(key, tok, t0.Add(-time.Hour))
		if err == nil && !quarantine.ValidID(l.ID) {
			t.Errorf("accepted a link to %q", l.ID)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add("1700000000000000000.12")
	f.Add("x.y")
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := parseKey(s)
		if ok && k.Row < 0 {
			t.Errorf("parseKey(%q) = %+v", s, k)
		}
	})
}

func digestLink(t *testing.T, f *fixture, name, addr string, ttl time.Duration) string {
	t.Helper()
	return "/d/" + SignLink(f.key, Link{ID: f.ids[name], Address: addr, Expires: f.clock.now().Add(ttl)})
}

// The link shows a confirmation page (a prefetch releases nothing),
// releases on POST, once, and is refused after its expiry.
func TestDigestLink(t *testing.T) {
	f := newFixture(t)
	link := digestLink(t, f, "bobEicar", "bob@example.test", time.Hour)
	b := f.browser(t) // no login
	code, body := b.get(link)
	if code != 200 || !strings.Contains(body, `id="confirm"`) || !strings.Contains(body, "eicar for bob") {
		t.Fatalf("GET link = %d:\n%s", code, body)
	}
	b.get(link) // a second prefetch
	if got := f.released(t); len(got) != 0 {
		t.Fatalf("GET released %v", got)
	}
	if code, _ := b.post(link, url.Values{"csrf": {""}}); code != http.StatusForbidden {
		t.Errorf("POST without the form token = %d, want 403", code)
	}
	if code, body := b.post(link, nil); code != 200 || !strings.Contains(body, "released to bob@example.test") {
		t.Fatalf("POST = %d:\n%s", code, body)
	}
	if got := f.released(t); len(got) != 1 {
		t.Fatalf("outgoing queue has %v, want one release", got)
	}
	if code, body := b.post(link, nil); code != http.StatusGone || !strings.Contains(body, "already been used") {
		t.Errorf("second POST = %d, want 410 already used", code)
	}
	if got := f.released(t); len(got) != 1 {
		t.Errorf("the second POST released again: %v", got)
	}
	if a := f.st.Audits("release"); len(a) != 1 || a[0].User != "digest:bob@example.test" {
		t.Errorf("audit = %+v", a)
	}

	exp := digestLink(t, f, "bobXSS", "bob@example.test", time.Hour)
	f.clock.add(time.Hour)
	if code, _ := b.get(exp); code != http.StatusGone {
		t.Errorf("GET expired link = %d, want 410", code)
	}
	if code, _ := b.post(exp, nil); code != http.StatusGone {
		t.Errorf("POST expired link = %d, want 410", code)
	}
	if got := f.released(t); len(got) != 1 {
		t.Errorf("an expired link released: %v", got)
	}
}

func TestDigestLinkRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	// Signed for an address that is not a recipient of the entry.
	if code, _ := b.get(digestLink(t, f, "carolEicar", "bob@example.test", time.Hour)); code != http.StatusNotFound {
		t.Errorf("link for a non-recipient = %d, want 404", code)
	}
	if code, _ := b.get("/d/garbage"); code != http.StatusForbidden {
		t.Errorf("garbage link = %d, want 403", code)
	}
	// The subject is shown as text on the confirmation page.
	_, body := b.get(digestLink(t, f, "bobXSS", "bob@example.test", time.Hour))
	if strings.Contains(body, "<script>alert") {
		t.Error("the digest page shows the subject as markup")
	}
	// Without a digest key no link is valid.
	g := newFixture(t, func(o *Options) { o.DigestKey = nil })
	if code, _ := g.browser(t).get("/d/" + SignLink(nil, Link{ID: g.ids["bobEicar"], Address: "bob@example.test", Expires: t0.Add(time.Hour)})); code != http.StatusForbidden {
		t.Errorf("link with no key configured = %d, want 403", code)
	}
}

func TestDigests(t *testing.T) {
	f := newFixture(t)
	// A released entry is not listed again.
	if _, err := f.srv.releaseEntry(f.ids["bobXSS"], nil); err != nil {
		t.Fatal(err)
	}
	es, err := f.q.List(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	users, _ := f.st.Users(context.Background())
	ds, err := Digests(users, es, DigestOptions{Key: f.key, BaseURL: "https://desk.example/", Now: t0, From: "postmaster@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].To != "bob@example.test" || ds[1].To != "carol@other.test" {
		t.Fatalf("digests to %+v", ds)
	}
	body := string(ds[0].Mail.Body)
	if ds[0].Entries != 1 || !strings.Contains(body, "eicar for bob") || strings.Contains(body, "alert") || strings.Contains(body, "carol") {
		t.Errorf("bob's digest:\n%s", body)
	}
	i := strings.Index(body, "https://desk.example/d/")
	if i < 0 {
		t.Fatalf("no link in:\n%s", body)
	}
	tok := strings.Fields(body[i+len("https://desk.example/d/"):])[0]
	l, _, err := VerifyLink(f.key, tok, t0.Add(DefaultDigestTTL-time.Second))
	if err != nil || l.ID != f.ids["bobEicar"] || l.Address != "bob@example.test" {
		t.Errorf("link = %+v, %v", l, err)
	}
	if _, _, err := VerifyLink(f.key, tok, t0.Add(DefaultDigestTTL)); !errors.Is(err, ErrExpiredLink) {
		t.Errorf("link after the TTL: %v", err)
	}
	if _, err := (ds[0].Mail).Bytes(mailOpts()); err != nil {
		t.Errorf("digest mail does not render: %v", err)
	}
	if _, err := Digests(users, es, DigestOptions{Now: t0}); err == nil {
		t.Error("Digests without key, base URL and sender: no error")
	}
	// MaxEntries bounds a digest.
	ds, _ = Digests([]store.User{{Name: "d", Addresses: []string{"bob@example.test"}}}, append(es, es...), DigestOptions{Key: f.key, BaseURL: "https://x.example", Now: t0, From: "p@x.example", MaxEntries: 1})
	if len(ds) != 1 || !strings.Contains(string(ds[0].Mail.Body), "and 1 more") {
		t.Errorf("MaxEntries 1 with two entries: %+v", ds)
	}
}

func mailOpts() notify.MailOptions { return notify.MailOptions{Now: func() time.Time { return t0 }} }
