package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web/webtest"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeVerify stands in for argon2id: the hash of pw is "h:"+pw.
func fakeVerify(hash, pw string) bool { return hash == "h:"+pw }

type fixture struct {
	st     *webtest.MemStore
	q      *quarantine.Quarantine
	out    string
	srv    *Server
	hs     *httptest.Server
	clock  *clock
	log    *bytes.Buffer
	mu     sync.Mutex
	kicked []string
	rows   map[string]int64 // by name: bobEicar, carolEicar, bobClean, bobXSS, bobBadRef
	ids    map[string]string
	key    []byte
}

func newFixture(t *testing.T, mods ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{st: webtest.New(), q: &quarantine.Quarantine{Dir: t.TempDir()}, out: t.TempDir(),
		clock: &clock{t: t0}, log: &bytes.Buffer{}, rows: map[string]int64{}, ids: map[string]string{},
		key: []byte("0123456789abcdef0123456789abcdef")}
	ctx := context.Background()
	for _, u := range []store.User{
		{Name: "admin", Role: store.RoleAdmin, Hash: "h:adminpw"},
		{Name: "dom", Role: store.RoleDomain, Domains: []string{"example.test"}, Hash: "h:dompw"},
		{Name: "bob", Role: store.RoleUser, Addresses: []string{"bob@example.test"}, Hash: "h:bobpw"},
		{Name: "carol", Role: store.RoleUser, Addresses: []string{"carol@other.test"}, Hash: "h:carolpw"},
	} {
		f.st.AddUser(ctx, u)
	}
	add := func(name, to, subject, verdict string, quar bool, seq int) {
		rec := store.LogRecord{Time: t0.Add(-time.Duration(seq) * time.Minute), Host: "mx", Sender: "eve@bad.example",
			Recipients: []string{to}, Subject: subject, Verdict: verdict, Size: 123,
			StageMS: map[string]int64{"virus": 3}}
		if quar {
			id, qid, err := webtest.Quarantine(f.q, webtest.Message{Sender: "eve@bad.example", Recipients: []string{to},
				Subject: subject, Reason: "Eicar-Test-Signature", Body: "body of " + name + "\n<b>not html</b>\n",
				Time: rec.Time, Seq: seq})
			if err != nil {
				t.Fatal(err)
			}
			rec.Quarantine, rec.QueueID, f.ids[name] = id, qid, id
			rec.Viruses = []string{"Eicar-Test-Signature"}
			rec.Reports = []store.LogReport{{Kind: "virus", Part: "eicar.com", Text: "Eicar-Test-Signature found", Removed: true, Filename: "eicar.com"}}
		}
		f.rows[name] = f.st.AddRow(rec)
	}
	add("bobEicar", "bob@example.test", "eicar for bob", "infected", true, 1)
	add("carolEicar", "carol@other.test", "eicar for carol", "infected", true, 2)
	add("bobClean", "bob@example.test", "hello bob", "clean", false, 3)
	add("bobXSS", "bob@example.test", `<script>alert("x")</script>`, "infected", true, 4)
	r := store.LogRecord{Time: t0.Add(-5 * time.Minute), Sender: "eve@bad.example", Recipients: []string{"bob@example.test"},
		Subject: "bad ref", Verdict: "infected", Quarantine: "../../../../etc"}
	f.rows["bobBadRef"] = f.st.AddRow(r)

	l := logrus.New()
	l.SetOutput(f.log)
	l.SetLevel(logrus.DebugLevel)
	o := Options{Store: f.st, Quarantine: f.q, Outgoing: f.out, OrgName: "Test", Verify: fakeVerify, Log: l,
		Now: f.clock.now, Host: "mx", DigestKey: f.key, Lists: &Lists{Source: f.st},
		IDGen: sendmail.NewIDGen(f.clock.now, 99, 0),
		Kick:  func(id string) { f.mu.Lock(); f.kicked = append(f.kicked, id); f.mu.Unlock() }}
	for _, m := range mods {
		m(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.hs = httptest.NewServer(srv)
	t.Cleanup(f.hs.Close)
	return f
}

// released lists the qf files in the outgoing queue.
func (f *fixture) released(t *testing.T) []string {
	t.Helper()
	des, err := os.ReadDir(f.out)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		if strings.HasPrefix(d.Name(), "qf") {
			out = append(out, d.Name())
		}
	}
	return out
}

type browser struct {
	t    *testing.T
	f    *fixture
	c    *http.Client
	csrf string
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, f: f, c: c}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.f.hs.URL+path, nil)
	resp, body := b.do(req)
	return resp.StatusCode, body
}

// post sends a form with the last CSRF token seen, unless v sets "csrf"
// (an empty value sends none).
func (b *browser) post(path string, v url.Values) (int, string) {
	b.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", b.csrf)
	} else if v.Get("csrf") == "" {
		v.Del("csrf")
	}
	req, _ := http.NewRequest("POST", b.f.hs.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := b.do(req)
	return resp.StatusCode, body
}

// login logs in and fails the test unless it works.
func (f *fixture) login(t *testing.T, name, pw string) *browser {
	t.Helper()
	b := f.browser(t)
	b.get("/login")
	if code, body := b.post("/login", url.Values{"name": {name}, "password": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("login %s = %d: %s", name, code, body)
	}
	if code, _ := b.get("/messages"); code != http.StatusOK {
		t.Fatalf("GET /messages after login = %d", code)
	}
	return b
}

func rowPath(f *fixture, name, action string) string {
	p := "/message/" + itoa(f.rows[name])
	if action != "" {
		p += "/" + action
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
