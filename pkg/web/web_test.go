package web

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

func TestLoginCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		f := newFixture(t, func(o *Options) { o.TLS = tls })
		b := f.browser(t)
		b.get("/login")
		req, _ := http.NewRequest("POST", f.hs.URL+"/login", strings.NewReader(url.Values{"name": {"admin"}, "password": {"adminpw"}, "csrf": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := b.do(req)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login = %d", resp.StatusCode)
		}
		var c *http.Cookie
		for _, x := range resp.Cookies() {
			if x.Name == sessionCookie {
				c = x
			}
		}
		if c == nil || len(c.Value) != 64 || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tls {
			t.Errorf("TLS %v: session cookie = %+v, want 32 random bytes, HttpOnly, SameSite=Strict, Secure=%v", tls, c, tls)
		}
	}
}

func TestLoginRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.get("/login")
	if code, _ := b.post("/login", url.Values{"name": {"admin"}, "password": {"wrong"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong password = %d, want 401", code)
	}
	if code, _ := b.post("/login", url.Values{"name": {"nobody"}, "password": {"x"}}); code != http.StatusUnauthorized {
		t.Errorf("unknown user = %d, want 401", code)
	}
	if code, _ := b.post("/login", url.Values{"name": {"admin"}, "password": {"adminpw"}, "csrf": {""}}); code != http.StatusForbidden {
		t.Errorf("login without CSRF token = %d, want 403", code)
	}
	if code, _ := f.browser(t).get("/messages"); code != http.StatusSeeOther {
		t.Errorf("GET /messages without a session = %d, want a redirect to /login", code)
	}
}

// Five failures lock the user name and the client address for the
// window; the sixth attempt, even with the right password, is refused;
// once the window has passed it works.
func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.get("/login")
	for i := 0; i < DefaultMaxLoginFailures; i++ {
		if code, _ := b.post("/login", url.Values{"name": {"bob"}, "password": {"guess"}}); code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, code)
		}
	}
	if code, _ := b.post("/login", url.Values{"name": {"bob"}, "password": {"bobpw"}}); code != http.StatusTooManyRequests {
		t.Errorf("right password after %d failures = %d, want 429", DefaultMaxLoginFailures, code)
	}
	// Per client address: another user from the same address is refused too.
	if code, _ := b.post("/login", url.Values{"name": {"admin"}, "password": {"adminpw"}}); code != http.StatusTooManyRequests {
		t.Errorf("another user from the same address = %d, want 429", code)
	}
	f.clock.add(DefaultLoginWindow)
	if code, _ := b.post("/login", url.Values{"name": {"bob"}, "password": {"bobpw"}}); code != http.StatusSeeOther {
		t.Errorf("after the window = %d, want 303", code)
	}
}

// Per user name, whatever the address: the limiter's keys.
func TestLimiterPerUser(t *testing.T) {
	l := newLimiter(2, time.Minute)
	l.fail("user:bob", t0)
	if !l.allow("user:bob", t0) {
		t.Error("1 failure of 2 refused")
	}
	l.fail("user:bob", t0)
	if l.allow("user:bob", t0) {
		t.Error("2 failures of 2 allowed")
	}
	if !l.allow("user:carol", t0) {
		t.Error("another user refused")
	}
	if !l.allow("user:bob", t0.Add(time.Minute)) {
		t.Error("refused after the window")
	}
}

// Every handler answers 403 to a role it does not serve, before it reads
// anything (the store has the data; the page must not show it).
func TestAuthzByRole(t *testing.T) {
	f := newFixture(t)
	type req struct {
		method, path string
		form         url.Values
	}
	bobRow := rowPath(f, "bobEicar", "")
	cases := []struct {
		r     req
		roles map[string]int // user -> status
	}{
		{req{"GET", "/dashboard", nil}, map[string]int{"admin": 200, "dom": 403, "bob": 403}},
		{req{"GET", "/lists", nil}, map[string]int{"admin": 200, "dom": 403, "bob": 403}},
		{req{"GET", "/audit", nil}, map[string]int{"admin": 200, "dom": 403, "bob": 403}},
		{req{"POST", "/lists/add", url.Values{"list": {"whitelist"}, "pattern": {"ok@example.org"}}}, map[string]int{"dom": 403, "bob": 403}},
		{req{"POST", "/lists/delete", url.Values{"list": {"whitelist"}, "pattern": {"ok@example.org"}}}, map[string]int{"dom": 403, "bob": 403}},
		{req{"POST", bobRow + "/whitelist", nil}, map[string]int{"dom": 403, "bob": 403}},
		{req{"POST", bobRow + "/blacklist", nil}, map[string]int{"dom": 403, "bob": 403}},
		{req{"POST", bobRow + "/learn", url.Values{"as": {"spam"}}}, map[string]int{"bob": 403}},
		{req{"GET", bobRow, nil}, map[string]int{"admin": 200, "dom": 200, "bob": 200, "carol": 403}},
		{req{"POST", rowPath(f, "carolEicar", "release"), nil}, map[string]int{"bob": 403, "dom": 403}},
		{req{"POST", rowPath(f, "carolEicar", "delete"), nil}, map[string]int{"bob": 403, "dom": 403}},
	}
	pw := map[string]string{"admin": "adminpw", "dom": "dompw", "bob": "bobpw", "carol": "carolpw"}
	bs := map[string]*browser{}
	for u, p := range pw {
		bs[u] = f.login(t, u, p)
	}
	for _, c := range cases {
		for u, want := range c.roles {
			b := bs[u]
			var code int
			var body string
			if c.r.method == "GET" {
				code, body = b.get(c.r.path)
			} else {
				b.get("/messages") // a fresh token
				form := url.Values{}
				for k, v := range c.r.form {
					form[k] = v
				}
				code, body = b.post(c.r.path, form)
			}
			if code != want {
				t.Errorf("%s %s as %s = %d, want %d", c.r.method, c.r.path, u, code, want)
			}
			if code == http.StatusForbidden && strings.Contains(body, "eicar for") {
				t.Errorf("%s %s as %s: the 403 page shows the message", c.r.method, c.r.path, u)
			}
		}
	}
	if got := f.released(t); len(got) != 0 {
		t.Errorf("refused requests released %v", got)
	}
	if _, err := f.q.Get(f.ids["carolEicar"]); err != nil {
		t.Errorf("refused delete removed carol's entry: %v", err)
	}
	if es, _ := f.st.ListEntries(context.Background(), "whitelist"); len(es) != 0 {
		t.Errorf("refused list edits stored %v", es)
	}
}

// A user cannot open another user's message by URL, nor learn that a row
// number exists; an administrator gets 404 for a missing row.
func TestMessageScope(t *testing.T) {
	f := newFixture(t)
	bob := f.login(t, "bob", "bobpw")
	if code, _ := bob.get(rowPath(f, "carolEicar", "")); code != http.StatusForbidden {
		t.Errorf("bob opens carol's message = %d, want 403", code)
	}
	if code, _ := bob.get("/message/9999"); code != http.StatusForbidden {
		t.Errorf("bob opens a missing row = %d, want 403", code)
	}
	admin := f.login(t, "admin", "adminpw")
	if code, _ := admin.get("/message/9999"); code != http.StatusNotFound {
		t.Errorf("admin opens a missing row = %d, want 404", code)
	}
	dom := f.login(t, "dom", "dompw")
	if code, _ := dom.get(rowPath(f, "carolEicar", "")); code != http.StatusForbidden {
		t.Errorf("domain admin of example.test opens a message to other.test = %d, want 403", code)
	}
	// The list shows only the user's own messages.
	_, body := bob.get("/messages")
	if strings.Contains(body, "eicar for carol") || !strings.Contains(body, "eicar for bob") {
		t.Errorf("bob's message list is not scoped:\n%s", body)
	}
}

func TestCSRFRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin", "adminpw")
	for _, form := range []url.Values{{"csrf": {""}}, {"csrf": {strings.Repeat("0", 64)}}} {
		if code, _ := admin.post(rowPath(f, "bobEicar", "release"), form); code != http.StatusForbidden {
			t.Errorf("release with csrf %q = %d, want 403", form.Get("csrf"), code)
		}
	}
	// A token from another session is refused too.
	other := f.login(t, "admin", "adminpw")
	if code, _ := admin.post(rowPath(f, "bobEicar", "release"), url.Values{"csrf": {other.csrf}}); code != http.StatusForbidden {
		t.Errorf("release with another session's token = %d, want 403", code)
	}
	// The right token from a foreign Origin is refused.
	req, _ := http.NewRequest("POST", f.hs.URL+rowPath(f, "bobEicar", "release"), strings.NewReader(url.Values{"csrf": {admin.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := admin.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("release from a foreign origin = %d, want 403", resp.StatusCode)
	}
	if got := f.released(t); len(got) != 0 {
		t.Errorf("refused posts released %v", got)
	}
	if code, _ := admin.post(rowPath(f, "bobEicar", "release"), nil); code != http.StatusSeeOther {
		t.Errorf("release with the token = %d, want 303", code)
	}
}

func TestSubjectShownAsText(t *testing.T) {
	f := newFixture(t)
	bob := f.login(t, "bob", "bobpw")
	for _, p := range []string{"/messages", rowPath(f, "bobXSS", "")} {
		code, body := bob.get(p)
		if code != 200 {
			t.Fatalf("GET %s = %d", p, code)
		}
		if strings.Contains(body, `<script>alert`) {
			t.Errorf("GET %s: the subject's <script> is in the page as markup", p)
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
			t.Errorf("GET %s: the subject is not shown as text", p)
		}
	}
	// The mail body is shown as text, never as HTML.
	_, body := bob.get(rowPath(f, "bobEicar", ""))
	if !strings.Contains(body, "&lt;b&gt;not html&lt;/b&gt;") {
		t.Errorf("the message body is not shown as escaped text")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.hs.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// No inline script or style in any template: the CSP would block it.
	des, _ := templateFS.ReadDir("templates")
	for _, d := range des {
		b, _ := templateFS.ReadFile("templates/" + d.Name())
		s := string(b)
		if strings.Contains(s, "<script>") || strings.Contains(s, "<style") || strings.Contains(s, " style=") || strings.Contains(s, " onclick") || strings.Contains(s, " onsubmit") {
			t.Errorf("%s has inline script or style", d.Name())
		}
	}
}

func TestRelease(t *testing.T) {
	f := newFixture(t)
	bob := f.login(t, "bob", "bobpw")
	if code, _ := bob.post(rowPath(f, "bobEicar", "release"), url.Values{"to": {"mallory@evil.example"}}); code != http.StatusForbidden {
		t.Errorf("a user releasing to another address = %d, want 403", code)
	}
	if code, _ := bob.post(rowPath(f, "bobEicar", "release"), nil); code != http.StatusSeeOther {
		t.Fatalf("bob releases his message = %d", code)
	}
	qfs := f.released(t)
	if len(qfs) != 1 {
		t.Fatalf("outgoing queue has %v, want one qf", qfs)
	}
	fh, _ := os.Open(filepath.Join(f.out, qfs[0]))
	qf, err := sendmail.ParseQf(fh, sendmail.Limits{})
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r := qf.Recipients(); len(r) != 1 || r[0].Addr != "bob@example.test" {
		t.Errorf("released to %v, want bob@example.test", r)
	}
	if len(f.kicked) != 1 || "qf"+f.kicked[0] != qfs[0] {
		t.Errorf("kicked %v, want the released id %s", f.kicked, qfs[0])
	}
	if a := f.st.Audits("release"); len(a) != 1 || a[0].User != "bob" || a[0].Target != f.ids["bobEicar"] {
		t.Errorf("audit = %+v", a)
	}
	// An administrator releases to another address.
	admin := f.login(t, "admin", "adminpw")
	if code, _ := admin.post(rowPath(f, "bobEicar", "release"), url.Values{"to": {"postmaster@example.test"}}); code != http.StatusSeeOther {
		t.Errorf("admin release to another address = %d", code)
	}
	if code, _ := admin.post(rowPath(f, "bobEicar", "release"), url.Values{"to": {"bad address"}}); code != http.StatusBadRequest {
		t.Errorf("release to a bad address = %d, want 400", code)
	}
	if len(f.released(t)) != 2 {
		t.Errorf("outgoing queue has %v, want 2 releases", f.released(t))
	}
}

func TestReleaseAndWhitelist(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin", "adminpw")
	if code, _ := admin.post(rowPath(f, "bobEicar", "release"), url.Values{"whitelist": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("release+whitelist = %d", code)
	}
	if !f.srv.o.Lists.Whitelisted("eve@bad.example", netip.Addr{}) {
		t.Error("the sender is not whitelisted after release+whitelist")
	}
	if len(f.st.Audits("whitelist")) != 1 || len(f.st.Audits("release")) != 1 {
		t.Errorf("audit: whitelist %v, release %v", f.st.Audits("whitelist"), f.st.Audits("release"))
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	bob := f.login(t, "bob", "bobpw")
	if code, _ := bob.post(rowPath(f, "bobEicar", "delete"), nil); code != http.StatusSeeOther {
		t.Fatalf("delete = %d", code)
	}
	if _, err := f.q.Get(f.ids["bobEicar"]); err == nil {
		t.Error("entry still there after delete")
	}
	if a := f.st.Audits("delete"); len(a) != 1 || a[0].User != "bob" {
		t.Errorf("audit = %+v", a)
	}
	if code, _ := bob.post(rowPath(f, "bobEicar", "release"), nil); code != http.StatusNotFound {
		t.Errorf("release after delete = %d, want 404", code)
	}
}

// IDs that try paths: a row number that is not a number, a quarantine
// reference in the store that is not an entry ID.
func TestPathIDsRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin", "adminpw")
	for _, p := range []string{"/message/..%2F..%2Fetc%2Fpasswd", "/message/-1", "/message/0", "/message/1e3"} {
		if code, _ := admin.get(p); code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 400 or 404", p, code)
		}
	}
	for _, a := range []string{"release", "delete"} {
		if code, _ := admin.post(rowPath(f, "bobBadRef", a), nil); code != http.StatusNotFound {
			t.Errorf("%s of a row whose quarantine reference is a path = %d, want 404", a, code)
		}
	}
	if code, body := admin.get(rowPath(f, "bobBadRef", "")); code != 200 || strings.Contains(body, "root:") {
		t.Errorf("message page of a bad reference = %d", code)
	}
}

func TestLists(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin", "adminpw")
	admin.get("/lists")
	if code, _ := admin.post("/lists/add", url.Values{"list": {"blacklist"}, "pattern": {"*.spam.example"}}); code != http.StatusSeeOther {
		t.Fatalf("add = %d", code)
	}
	if !f.srv.o.Lists.Blacklisted("x@a.spam.example", netip.Addr{}) {
		t.Error("a new blacklist entry does not take effect at once")
	}
	for _, bad := range []string{"not an entry", "user@*.example.com", "# comment", strings.Repeat("a", 400) + ".example"} {
		if code, _ := admin.post("/lists/add", url.Values{"list": {"whitelist"}, "pattern": {bad}}); code != http.StatusBadRequest {
			t.Errorf("add %q = %d, want 400", bad, code)
		}
	}
	if code, _ := admin.post("/lists/add", url.Values{"list": {"greylist"}, "pattern": {"a@b.example"}}); code != http.StatusBadRequest {
		t.Errorf("add to an unknown list = %d, want 400", code)
	}
	_, body := admin.get("/lists")
	if !strings.Contains(body, "*.spam.example") {
		t.Error("lists page does not show the entry")
	}
	if code, _ := admin.post("/lists/delete", url.Values{"list": {"blacklist"}, "pattern": {"*.spam.example"}}); code != http.StatusSeeOther {
		t.Fatalf("delete = %d", code)
	}
	if f.srv.o.Lists.Blacklisted("x@a.spam.example", netip.Addr{}) {
		t.Error("a removed entry still takes effect")
	}
	if len(f.st.Audits("blacklist")) != 1 || len(f.st.Audits("blacklist-delete")) != 1 {
		t.Error("list edits not in the audit log")
	}
	if code, _ := admin.post(rowPath(f, "bobEicar", "blacklist"), nil); code != http.StatusSeeOther {
		t.Errorf("blacklist the sender = %d", code)
	}
	if !f.srv.o.Lists.Blacklisted("EVE@bad.example", netip.MustParseAddr("192.0.2.1")) {
		t.Error("the blacklisted sender does not match")
	}
}

type fakeLearner struct {
	spam []bool
	msgs []string
}

func (l *fakeLearner) Learn(ctx context.Context, spam bool, msg io.Reader) error {
	b, _ := io.ReadAll(msg)
	l.spam, l.msgs = append(l.spam, spam), append(l.msgs, string(b))
	return nil
}

func TestLearn(t *testing.T) {
	l := &fakeLearner{}
	f := newFixture(t, func(o *Options) { o.Learner = l })
	dom := f.login(t, "dom", "dompw")
	if code, _ := dom.post(rowPath(f, "bobEicar", "learn"), url.Values{"as": {"ham"}}); code != http.StatusSeeOther {
		t.Fatalf("learn ham = %d", code)
	}
	if code, _ := dom.post(rowPath(f, "bobEicar", "learn"), url.Values{"as": {"maybe"}}); code != http.StatusBadRequest {
		t.Errorf("learn as maybe = %d, want 400", code)
	}
	if len(l.spam) != 1 || l.spam[0] || !strings.Contains(l.msgs[0], "Subject: eicar for bob") {
		t.Errorf("learner got %v %q", l.spam, l.msgs)
	}
	if len(f.st.Audits("learn-ham")) != 1 {
		t.Error("learning not in the audit log")
	}
}

func TestDashboard(t *testing.T) {
	in := t.TempDir()
	f := newFixture(t, func(o *Options) { o.WorkDir, o.Incoming = t.TempDir(), []string{in} })
	admin := f.login(t, "admin", "adminpw")
	code, body := admin.get("/dashboard")
	if code != 200 {
		t.Fatalf("dashboard = %d", code)
	}
	for _, want := range []string{`id="graph-day"><svg`, `id="graph-month"><svg`, `<rect class="bar"`, `infected: 4`, "no status from the daemon", `id="queued">0<`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

func TestMessagesSearchAndPaging(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < pageSize+10; i++ {
		f.st.AddRow(storeRow(t0.Add(-time.Hour-time.Duration(i)*time.Second), "bulk@list.example", "newsletter"))
	}
	admin := f.login(t, "admin", "adminpw")
	_, body := admin.get("/messages?q=newsletter")
	if n := strings.Count(body, ">newsletter<"); n != pageSize {
		t.Errorf("first page has %d rows, want %d", n, pageSize)
	}
	m := nextRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	_, body = admin.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := strings.Count(body, ">newsletter<"); n != 10 {
		t.Errorf("second page has %d rows, want 10", n)
	}
	if code, _ := admin.get("/messages?before=x.y"); code != http.StatusBadRequest {
		t.Errorf("bad page key = %d, want 400", code)
	}
	_, body = admin.get("/messages?since=yesterday-ish")
	if !strings.Contains(body, "since:") {
		t.Error("a bad since is not reported")
	}
	_, body = admin.get("/messages?verdict=infected&q=eicar")
	if !strings.Contains(body, "eicar for carol") || strings.Contains(body, "newsletter") {
		t.Error("verdict and text filters not applied")
	}
}

func TestNoSecretInLogs(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, "admin", "adminpw")
	var sid string
	u, _ := url.Parse(f.hs.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			sid = c.Value
		}
	}
	bad := f.browser(t)
	bad.get("/login")
	bad.post("/login", url.Values{"name": {"admin"}, "password": {"s3cret-guess"}})
	log := f.log.String()
	for _, secret := range []string{"adminpw", "s3cret-guess", sid, b.csrf, "h:adminpw"} {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("the log contains a secret %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "login failed") {
		t.Error("a failed login is not logged")
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr string
		tls  bool
		ok   bool
	}{
		{"127.0.0.1:8080", false, true}, {"[::1]:8080", false, true}, {"localhost:8080", false, true},
		{"0.0.0.0:8080", false, false}, {":8080", false, false}, {"192.0.2.1:443", false, false},
		{"0.0.0.0:8443", true, true}, {"nonsense", false, false},
	} {
		if err := CheckListen(c.addr, c.tls); (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %v) = %v, want ok %v", c.addr, c.tls, err, c.ok)
		}
	}
}

func TestStaticAndLogout(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, "bob", "bobpw")
	code, body := b.get("/static/app.js")
	if code != 200 || !strings.Contains(body, "data-confirm") {
		t.Errorf("GET /static/app.js = %d", code)
	}
	if code, _ := b.post("/logout", nil); code != http.StatusSeeOther {
		t.Errorf("logout = %d", code)
	}
	if code, _ := b.get("/messages"); code != http.StatusSeeOther {
		t.Errorf("after logout GET /messages = %d, want a redirect to /login", code)
	}
}

// The user is read again on every request: a new role takes effect at once.
func TestRoleChangeTakesEffect(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, "bob", "bobpw")
	f.st.AddUser(context.Background(), f.mustUser(t, "bob", "admin")) // promoted: takes effect at once
	if code, _ := b.get("/dashboard"); code != 200 {
		t.Errorf("promoted user's dashboard = %d", code)
	}
}

func (f *fixture) mustUser(t *testing.T, name, role string) store.User {
	u, err := f.st.User(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	u.Role = store.Role(role)
	return u
}

var nextRE = regexp.MustCompile(`href="([^"]+)" id="next"`)

func storeRow(at time.Time, sender, subject string) store.LogRecord {
	return store.LogRecord{Time: at, Sender: sender, Recipients: []string{"bob@example.test"}, Subject: subject, Verdict: "clean"}
}

// "Origin: null" (privacy settings) leaves the decision to the token.
func TestOriginNull(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin", "adminpw")
	for _, c := range []struct {
		csrf string
		want int
	}{{"", http.StatusForbidden}, {admin.csrf, http.StatusSeeOther}} {
		form := url.Values{}
		if c.csrf != "" {
			form.Set("csrf", c.csrf)
		}
		req, _ := http.NewRequest("POST", f.hs.URL+rowPath(f, "bobEicar", "release"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "null")
		if resp, _ := admin.do(req); resp.StatusCode != c.want {
			t.Errorf("Origin null, token %v: %d, want %d", c.csrf != "", resp.StatusCode, c.want)
		}
	}
}
