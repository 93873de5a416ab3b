package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/peer"
)

var groupKey = []byte("group-key-0123456789abcdef012345")

// twoHosts: host "mx" holds the quarantine and serves the peer API; host
// "mxa" shares its store (the message log) and has none of the files.
func twoHosts(t *testing.T) (a, b *fixture) {
	b = newFixture(t, func(o *Options) { o.PeerKey = groupKey })
	a = newFixture(t, func(o *Options) {
		o.Store, o.Host, o.PeerKey = b.st, "mxa", groupKey
		o.Peers = &peer.Client{Key: groupKey, Self: "mxa", Peers: map[string]string{"mx": b.hs.URL}, Now: b.clock.now}
	})
	return a, b
}

// TestPeerRelease: the desk of host A releases a message quarantined by
// host B; the copy goes into B's outgoing queue, and B kicks it.
func TestPeerRelease(t *testing.T) {
	a, b := twoHosts(t)
	br := a.login(t, "admin", "adminpw")
	code, body := br.get(rowPath(b, "bobEicar", ""))
	if code != http.StatusOK || !strings.Contains(body, `id="release"`) || !strings.Contains(body, "body of bobEicar") {
		t.Fatalf("message page on host A = %d, want the entry of host B with its release button and text:\n%s", code, body)
	}
	if code, body := br.post(rowPath(b, "bobEicar", "release"), nil); code != http.StatusSeeOther {
		t.Fatalf("release on host A = %d: %s", code, body)
	}
	if got := b.released(t); len(got) != 1 {
		t.Errorf("host B's outgoing queue = %v, want one released message", got)
	}
	if got := a.released(t); len(got) != 0 {
		t.Errorf("host A's outgoing queue = %v, want nothing (the files are on B)", got)
	}
	if len(b.kicked) != 1 {
		t.Errorf("host B kicked %v, want the released message", b.kicked)
	}
	e, err := b.q.Get(b.ids["bobEicar"])
	if err != nil || len(e.Released) != 1 {
		t.Errorf("entry on B after the release: %+v, %v; want one release", e.Released, err)
	}
	if code, _ := br.post(rowPath(b, "carolEicar", "delete"), nil); code != http.StatusSeeOther {
		t.Fatalf("delete on host A = %d", code)
	}
	if _, err := b.q.Get(b.ids["carolEicar"]); err == nil {
		t.Error("entry deleted through host A is still on host B")
	}
}

// TestPeerDown: with host B down, host A says so instead of showing no
// quarantine, and a release is refused with that reason.
func TestPeerDown(t *testing.T) {
	a, b := twoHosts(t)
	br := a.login(t, "admin", "adminpw")
	b.hs.Close()
	code, body := br.get(rowPath(b, "bobEicar", ""))
	if code != http.StatusOK || !strings.Contains(body, `id="peer-down"`) || !strings.Contains(body, "Host mx does not answer") {
		t.Errorf("message page with host B down = %d, want the host-down notice:\n%s", code, body)
	}
	code, body = br.post(rowPath(b, "bobEicar", "release"), nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Host mx does not answer") {
		t.Errorf("release with host B down = %d, want 503 and the host-down text:\n%s", code, body)
	}
}

// TestPeerAuth: the peer API answers nothing without a valid signature,
// in its time window, used once; IDs are checked.
func TestPeerAuth(t *testing.T) {
	_, b := twoHosts(t)
	id := b.ids["bobEicar"]
	send := func(method, path, nonce string, at time.Time, key []byte, body string, sig string) int {
		req, _ := http.NewRequest(method, b.hs.URL+path, strings.NewReader(body))
		req.Header.Set(peer.HeaderTime, strconv.FormatInt(at.Unix(), 10))
		req.Header.Set(peer.HeaderNonce, nonce)
		if sig == "" {
			sig = peer.Sign(key, method, path, at, nonce, []byte(body))
		}
		req.Header.Set(peer.HeaderSig, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := b.clock.now()
	n := 0
	nonce := func() string { n++; return "nonce-0000000000" + strconv.Itoa(n) }
	get := peer.Path(id, "")
	rel := peer.Path(id, "release")
	tests := []struct {
		name               string
		method, path, body string
		at                 time.Time
		key                []byte
		sig                string
		want               int
	}{
		{"signed", "GET", get, "", now, groupKey, "", http.StatusOK},
		{"wrong key", "GET", get, "", now, []byte("another-key-0123456789abcdef0123"), "", http.StatusForbidden},
		{"no signature", "GET", get, "", now, groupKey, "x", http.StatusForbidden},
		{"too old", "GET", get, "", now.Add(-peer.Window - time.Second), groupKey, "", http.StatusForbidden},
		{"at the window's edge", "GET", get, "", now.Add(-peer.Window), groupKey, "", http.StatusOK},
		{"too far ahead", "GET", get, "", now.Add(peer.Window + time.Second), groupKey, "", http.StatusForbidden},
		{"body changed", "POST", rel, `{"to":[]}`, now, groupKey, peer.Sign(groupKey, "POST", rel, now, "nonce-x-changed-0", []byte(`{}`)), http.StatusForbidden},
		{"bad id", "GET", "/peer/v1/quarantine/..%2F..%2Fetc/passwd", "", now, groupKey, "", http.StatusForbidden},
		{"absent id", "GET", peer.Path("20261201/ZZZZ", ""), "", now, groupKey, "", http.StatusNotFound},
	}
	for _, tc := range tests {
		nc := nonce()
		if tc.name == "body changed" {
			nc = "nonce-x-changed-0"
		}
		if got := send(tc.method, tc.path, nc, tc.at, tc.key, tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: %s %s = %d, want %d", tc.name, tc.method, tc.path, got, tc.want)
		}
	}
	// A replayed request: the same nonce twice.
	if got := send("GET", get, "nonce-replayed-01", now, groupKey, "", ""); got != http.StatusOK {
		t.Fatalf("first use of a nonce = %d", got)
	}
	if got := send("GET", get, "nonce-replayed-01", now, groupKey, "", ""); got != http.StatusForbidden {
		t.Errorf("replayed request = %d, want 403", got)
	}
	if len(b.released(t)) != 0 {
		t.Error("a refused request released a message")
	}
}

// TestPeerAPIOff: without a key, /peer/ is not served at all.
func TestPeerAPIOff(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Post(f.hs.URL+peer.Path(f.ids["bobEicar"], "release"), "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("peer API without a key = %d, want it not served", resp.StatusCode)
	}
}
