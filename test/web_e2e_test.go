//go:build e2e

package test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
	"github.com/qscan/qscan/pkg/web/webtest"
	"github.com/qscan/qscan/test/stackutil"
)

// webClock is the desk's clock: real time plus a shift the test moves on
// to expire a digest link.
type webClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *webClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.shift) }
func (c *webClock) add(d time.Duration) {
	c.mu.Lock()
	c.shift += d
	c.mu.Unlock()
}

// TestWebDeskInBrowser drives the web desk in headless Chromium: log in,
// the dashboard's graphs, a quarantined EICAR message found by search and
// released to the stack's sink, another user's message refused by URL, a
// form without its CSRF token refused, a <script> subject shown as text,
// a digest link that releases once and is refused after its expiry.
// Screenshots of the main pages go to bin/screenshots/.
//
// The message goes through the real qscan binary, the real quarantine and
// the stack's real sendmail and sink. The desk's store is the in-memory
// one of pkg/web/webtest until pkg/store has the message log and users.
func TestWebDeskInBrowser(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "chromium")
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (scripts/teststack start chromium)")
	}
	clean(t, s)
	defer clean(t, s)

	// An EICAR message through the real scanner: quarantined.
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STAN` + `DARD-ANTIVIRUS-TEST-FILE!$H+H*`
	raw := []byte("From: eve@bad.example\nTo: bob@example.test\nSubject: EICAR web e2e\nMessage-ID: <eicar-web@e2e.example>\n\n" + eicar + "\n")
	if err := stackutil.Submit(s.SMTPIn, "eve@bad.example", []string{"bob@example.test"}, raw); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, s.Incoming, 1)
	cfgPath := writeConfig(t, s, cfgOpts{noKick: true, maxMessages: 30})
	bin := stackutil.Binary(t)
	if out, err := exec.Command(bin, "run", "--once", "-c", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "quarantine", "list", "--json", "-c", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("quarantine list: %v\n%s", err, out)
	}
	qid := quarantineID(t, out)
	s.Flush() // whatever qscan delivered (the cleaned copy) is not what we wait for
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	q := &quarantine.Quarantine{Dir: cfg.Quarantine.Dir}
	entry, err := q.Get(qid)
	if err != nil {
		t.Fatal(err)
	}

	// The desk over an in-memory store that has the message's log row.
	st := webtest.New()
	ctx := context.Background()
	st.AddUser(ctx, store.User{Name: "admin", Role: store.RoleAdmin, Hash: "h:admin-pw"})
	st.AddUser(ctx, store.User{Name: "bob", Role: store.RoleUser, Addresses: []string{"bob@example.test"}, Hash: "h:bob-pw"})
	st.AddUser(ctx, store.User{Name: "carol", Role: store.RoleUser, Addresses: []string{"carol@example.test"}, Hash: "h:carol-pw"})
	now := time.Now()
	eicarRow := st.AddRow(store.LogRecord{Time: entry.Time, Host: "e2e", QueueID: entry.QueueID, Sender: entry.Sender,
		Recipients: entry.Recipients, Subject: entry.Subject, Verdict: "virus", Viruses: []string{entry.Reason},
		Quarantine: qid, Size: int64(len(raw)), Actions: []string{"quarantine"},
		Reports: []store.LogReport{{Kind: "virus", Text: entry.Reason, Removed: true}}, StageMS: map[string]int64{"virus": 2, "explode": 1}})
	carolRow := st.AddRow(store.LogRecord{Time: now.Add(-time.Hour), Sender: "x@friend.example", Recipients: []string{"carol@example.test"},
		Subject: "carol's private mail", Verdict: "clean"})
	xssSubject := `<script>document.title="pwned"</script>`
	xssRow := st.AddRow(store.LogRecord{Time: now.Add(-2 * time.Hour), Sender: "eve@bad.example", Recipients: []string{"bob@example.test"},
		Subject: xssSubject, Verdict: "spam", SpamScore: 9.1})
	verdicts := []string{"clean", "clean", "clean", "spam", "high-spam", "virus", "blocked"}
	for i := 0; i < 200; i++ {
		st.AddRow(store.LogRecord{Time: now.Add(-time.Duration(i*7) * time.Minute), Sender: "list@news.example",
			Recipients: []string{"bob@example.test"}, Subject: "newsletter", Verdict: verdicts[i%len(verdicts)]})
	}
	st.Stats = store.Stats{TopViruses: []store.Count{{Key: "Eicar-Test-Signature", N: 3}},
		Stages: map[string]store.StageMS{"virus": {Mean: 2.5, P99: 9}, "explode": {Mean: 1, P99: 3}}}
	clock := &webClock{}
	key := []byte("e2e-digest-key-0123456789abcdef-0123")
	srv, err := web.New(web.Options{Store: st, Quarantine: q, Outgoing: s.Outgoing, OrgName: "e2e",
		Verify: func(hash, pw string) bool { return hash == "h:"+pw }, Now: clock.now, DigestKey: key,
		Lists: &web.Lists{Source: st}, WorkDir: cfg.Queue.WorkDir, Incoming: cfg.Queue.Incoming})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	base := hs.URL

	shots := filepath.Join("..", "bin", "screenshots")
	os.MkdirAll(shots, 0o755)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first run starts the browser: no timeout on it (it would end the
	// browser); the steps run under one derived from it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(bctx, 3*time.Minute)
	defer cancelT()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			page, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v; the page:\n%s", what, err, page)
		}
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(tctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return n
	}
	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644); err != nil {
			t.Error(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		run("wait for "+sel, chromedp.WaitVisible(css(sel)))
		s, err := chromedp.Run(tctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	login := func(name, pw string) {
		t.Helper()
		run("login "+name, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#name")),
			chromedp.SendKeys(css("#name"), name), chromedp.SendKeys(css("#password"), pw), chromedp.Click(css("#login")),
			chromedp.WaitVisible(css("form.logout")))
	}
	row := func(n int64) string { return base + "/message/" + itoa(n) }

	// Log in; the dashboard's graphs are drawn.
	run("login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#name")))
	shot("login")
	login("admin", "admin-pw")
	run("dashboard", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(css("#graph-day svg")))
	bars := eval(`document.querySelectorAll("#graph-day svg rect.bar").length + document.querySelectorAll("#graph-month svg rect.bar").length`)
	if bars < 10 {
		t.Errorf("the dashboard's graphs have %d bars", bars)
	}
	shot("dashboard")

	// Find the EICAR message by search and release it: it arrives at the sink.
	run("search", chromedp.Navigate(base+"/messages"), chromedp.WaitVisible(css("#q")), chromedp.SendKeys(css("#q"), "EICAR"),
		chromedp.Click(css("#search")), chromedp.WaitVisible(css("#messages a.subject")))
	if got := text("#messages"); !strings.Contains(got, "EICAR web e2e") || strings.Contains(got, "newsletter") {
		t.Errorf("search for EICAR shows:\n%s", got)
	}
	shot("messages")
	run("open", chromedp.Click(css("#messages a.subject")), chromedp.WaitVisible(css("#release")))
	shot("message")
	run("release", chromedp.Click(css("#release")), chromedp.WaitVisible(css("#flash")))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := waitFor(s, "<eicar-web@e2e.example>", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RcptTo) != 1 || got.RcptTo[0] != "bob@example.test" || !strings.Contains(string(got.Data), "EICAR-STAN") {
		t.Errorf("released message at the sink: to %v\n%s", got.RcptTo, got.Data)
	}

	// A subject with <script> is shown as text and runs nothing.
	run("xss page", chromedp.Navigate(row(xssRow)), chromedp.WaitVisible(css("#subject")))
	if got := text("#subject"); got != xssSubject {
		t.Errorf("subject shown as %q, want the text %q", got, xssSubject)
	}
	title, err := chromedp.Run(tctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	scripts := eval(`document.scripts.length`)
	if title == "pwned" || scripts != 1 {
		t.Errorf("the subject ran as a script: title %q, %d scripts", title, scripts)
	}

	// A form posted without its CSRF token is refused; nothing is deleted.
	run("message page", chromedp.Navigate(row(eicarRow)), chromedp.WaitVisible(css("#delete")))
	eval(`(function(){var f=document.querySelector("#delete").form; f.querySelector("input[name=csrf]").remove(); f.removeAttribute("data-confirm"); return 1})()`)
	run("post without csrf", chromedp.Click(css("#delete")), chromedp.WaitVisible(css("#error")))
	if got := text("main h1"); got != "403" {
		t.Errorf("delete without CSRF token: %q, want 403", got)
	}
	if _, err := q.Get(qid); err != nil {
		t.Errorf("the entry is gone after a refused delete: %v", err)
	}
	run("lists", chromedp.Navigate(base+"/lists"), chromedp.WaitVisible(css("#pattern")),
		chromedp.SendKeys(css("#pattern"), "*.friend.example"), chromedp.Click(css("#add")), chromedp.WaitVisible(css("#whitelist")))
	if !strings.Contains(text("#whitelist"), "*.friend.example") {
		t.Error("the whitelist entry is not shown")
	}
	shot("lists")
	run("audit", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(css("#audit")))
	if a := text("#audit"); !strings.Contains(a, "release") || !strings.Contains(a, "whitelist") {
		t.Errorf("audit page:\n%s", a)
	}
	shot("audit")

	// A user cannot open another user's message by its URL.
	run("logout", chromedp.Click(css("form.logout button")), chromedp.WaitVisible(css("#name")))
	login("bob", "bob-pw")
	run("carol's message", chromedp.Navigate(row(carolRow)), chromedp.WaitVisible(css("main h1")))
	if got := text("main h1"); got != "403" {
		t.Errorf("bob opens carol's message: %q, want 403", got)
	}
	if strings.Contains(text("main"), "carol's private mail") {
		t.Error("the 403 page shows carol's message")
	}

	// A digest link: a confirmation page, a release on the button, once;
	// refused after its expiry.
	link := base + "/d/" + web.SignLink(key, web.Link{ID: qid, Address: "bob@example.test", Expires: clock.now().Add(time.Hour)})
	stackutil.ClearSink(s.SinkDir)
	run("digest link", chromedp.Navigate(link), chromedp.WaitVisible(css("#confirm")))
	shot("digest")
	run("digest confirm", chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#result")))
	if got := text("#result"); !strings.Contains(got, "released") {
		t.Errorf("digest release: %q", got)
	}
	s.Flush()
	if _, err := waitFor(s, "<eicar-web@e2e.example>", 60*time.Second); err != nil {
		t.Errorf("digest release did not arrive: %v", err)
	}
	run("digest again", chromedp.Navigate(link), chromedp.WaitVisible(css("#confirm")), chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#result")))
	if got := text("#result"); !strings.Contains(got, "already been used") {
		t.Errorf("second use of the link: %q", got)
	}
	late := base + "/d/" + web.SignLink(key, web.Link{ID: qid, Address: "bob@example.test", Expires: clock.now().Add(time.Hour)})
	clock.add(2 * time.Hour)
	run("expired link", chromedp.Navigate(late), chromedp.WaitVisible(css("#result")))
	if got := text("#result"); !strings.Contains(got, "expired") {
		t.Errorf("expired link: %q", got)
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
