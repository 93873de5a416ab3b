//go:build e2e

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
	"github.com/qscan/qscan/test/stackutil"
)

// deskUser is an account the browser test makes with `qscan user add`.
type deskUser struct{ name, pw string }

// TestWebDeskInBrowser drives the web desk of a real `qscan run` in
// headless Chromium. The daemon runs the shipped configuration (paths and
// addresses changed; the stack's spamd as its spam engine; [web] listen on
// a loopback port of the stack's offset), its accounts are made with
// `qscan user add`, and its mail comes over SMTP through the stack's
// sendmail, so the message log holds the real pipeline's rows. In the
// browser: log in, the dashboard's graphs, the quarantined EICAR message
// found by search and released to the stack's sink, a high-scoring spam
// learnt by spamd, a <script> subject shown as text, a form without its
// CSRF token refused, another user's message refused by URL (403); then
// `qscan digest` mails bob a release link that works once, and a link
// signed for an expired time is refused. Screenshots of the main pages go
// to bin/screenshots/.
func TestWebDeskInBrowser(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "spamd", "chromium")
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (scripts/teststack start chromium)")
	}
	clean(t, s)
	defer clean(t, s)

	// The shipped configuration, its desk on 8025 + the stack's offset.
	off, _ := strconv.Atoi(s.Ports)
	addr := fmt.Sprintf("127.0.0.1:%d", 8025+off)
	base := "http://" + addr
	key := "e2e-digest-key-0123456789abcdef-0123"
	root := t.TempDir()
	shipped, err := stackutil.ShippedFor(s, root)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err = stackutil.ReplaceKeys(shipped, map[string]string{
		"spam.engines":   `["spamd"]`,
		"web.listen":     stackutil.Quote(addr),
		"web.base_url":   stackutil.Quote(base),
		"web.digest_key": stackutil.Quote(key),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(cfg, shipped, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := stackutil.Binary(t)
	qscan := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, append(args, "-c", cfg)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("qscan %s: %v\n%s%s", strings.Join(args, " "), err, out, stderrOf(err))
		}
		return out
	}
	admin, bob := deskUser{"admin", "admin pass phrase"}, deskUser{"bob", "bob's pass phrase"}
	qscan(admin.pw+"\n", "user", "add", "admin", "--role", "admin")
	qscan(bob.pw+"\n", "user", "add", "bob", "--role", "user", "--address", "bob@example.test")
	qscan("carol-pw\n", "user", "add", "carol", "--role", "user", "--address", "carol@example.test")

	daemonLog := filepath.Join(root, "qscan.log")
	d := stackutil.StartDaemon(t, bin, cfg, stackutil.DaemonOpts{LogFile: daemonLog, Group: true})
	defer d.Shutdown(t)
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(daemonLog)
			t.Logf("qscan run's log:\n%s", b)
		}
	}()
	waitHTTP(t, base+"/login")

	// Mail over SMTP: an EICAR (delivered cleaned, its original kept), a
	// GTUBE (high-scoring spam: held in the quarantine), carol's own mail
	// and a subject with a script.
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STAN` + `DARD-ANTIVIRUS-TEST-FILE!$H+H*`
	xssSubject := `<script>document.title="pwned"</script>`
	mails := []struct{ from, to, subject, id, body string }{
		{"eve@bad.example", "bob@example.test", "EICAR web e2e", "<eicar-web@e2e.example>", eicar},
		{"seller@spam.example", "bob@example.test", "cheap watches web e2e", "<gtube-web@e2e.example>", gtube},
		{"x@friend.example", "carol@example.test", "carol's private mail", "<carol-web@e2e.example>", "for carol only"},
		{"eve@bad.example", "bob@example.test", xssSubject, "<xss-web@e2e.example>", "a subject with a script"},
	}
	for _, m := range mails {
		raw := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\n\n%s\n", m.from, m.to, m.subject, m.id, m.body)
		if err := stackutil.Submit(s.SMTPIn, m.from, []string{m.to}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	rows := waitLogRows(t, bin, cfg, len(mails))
	bySubject := map[string]store.LogRecord{}
	for _, r := range rows {
		bySubject[r.Subject] = r
	}
	eicarRow, gtubeRow, carolRow, xssRow := bySubject[mails[0].subject], bySubject[mails[1].subject], bySubject[mails[2].subject], bySubject[xssSubject]
	if eicarRow.Verdict != "infected" || eicarRow.Quarantine == "" || gtubeRow.Verdict != "high-spam" || gtubeRow.Quarantine == "" || carolRow.Row == 0 || xssRow.Row == 0 {
		t.Fatalf("the message log's rows: %+v", rows)
	}
	// What the daemon delivered (the cleaned EICAR, carol's, the script
	// subject) is not what the releases below must bring.
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}

	shots := filepath.Join("..", "bin", "screenshots")
	os.MkdirAll(shots, 0o755)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first run starts the browser: no timeout on it (it would end the
	// browser); the steps run under one derived from it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(bctx, 4*time.Minute)
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
	// submit clicks a form's button and waits for the page that answers
	// it: the old page is marked, the new one is not (a WaitVisible
	// alone could find its element on the old page still shown).
	submit := func(what, sel string) {
		t.Helper()
		run(what+": mark the page", chromedp.Evaluate[chromedp.Void](`window.qscanOldPage = true`))
		run(what, chromedp.Click(css(sel)))
		deadline := time.Now().Add(30 * time.Second)
		for {
			// Fails while the navigation is under way: try again.
			if loaded, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.qscanOldPage === undefined && document.readyState === "complete"`)); err == nil && loaded {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no new page after 30 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	login := func(u deskUser) {
		t.Helper()
		run("login "+u.name, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#name")),
			chromedp.SendKeys(css("#name"), u.name), chromedp.SendKeys(css("#password"), u.pw))
		submit("login "+u.name, "#login")
		run("logged in as "+u.name, chromedp.WaitVisible(css("form.logout")))
	}
	logout := func() {
		t.Helper()
		submit("logout", "form.logout button")
		run("logged out", chromedp.WaitVisible(css("#name")))
	}
	page := func(r store.LogRecord) string { return base + "/message/" + strconv.FormatInt(r.Row, 10) }

	// Log in; the dashboard's graphs are drawn from the real rows.
	run("login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#name")))
	shot("login")
	login(admin)
	run("dashboard", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(css("#graph-day svg")), chromedp.WaitVisible(css("#graph-month svg")))
	day, month := eval(`document.querySelectorAll("#graph-day svg rect.bar").length`), eval(`document.querySelectorAll("#graph-month svg rect.bar").length`)
	if day < 3 || month < 3 { // clean, infected, high-spam at least
		t.Errorf("the dashboard's graphs have %d and %d bars, want 3 verdicts each", day, month)
	}
	shot("dashboard")

	// Find the EICAR message by search and release it: it arrives at the sink.
	run("messages", chromedp.Navigate(base+"/messages"), chromedp.WaitVisible(css("#q")), chromedp.SendKeys(css("#q"), "EICAR"))
	submit("search", "#search")
	run("found", chromedp.WaitVisible(css("#messages a.subject")))
	if got := text("#messages"); !strings.Contains(got, "EICAR web e2e") || strings.Contains(got, "carol") || strings.Contains(got, "watches") {
		t.Errorf("search for EICAR shows:\n%s", got)
	}
	shot("messages")
	submit("open", "#messages a.subject")
	run("message page", chromedp.WaitVisible(css("#release")))
	shot("message")
	submit("release", "#release")
	run("released", chromedp.WaitVisible(css("#flash")))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := waitFor(s, mails[0].id, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RcptTo) != 1 || got.RcptTo[0] != "bob@example.test" || !strings.Contains(string(got.Data), "EICAR-STAN") {
		t.Errorf("released message at the sink: to %v\n%s", got.RcptTo, got.Data)
	}

	// The held spam is taught to spamd (TELL) from its page.
	run("spam page", chromedp.Navigate(page(gtubeRow)), chromedp.WaitVisible(css("#learn-spam")))
	submit("learn as spam", "#learn-spam")
	if got := text("#flash"); !strings.Contains(got, "learnt") {
		t.Errorf("learn as spam: %q", got)
	}

	// A subject with <script> is shown as text and runs nothing.
	run("xss page", chromedp.Navigate(page(xssRow)), chromedp.WaitVisible(css("#subject")))
	if got := text("#subject"); got != xssSubject {
		t.Errorf("subject shown as %q, want the text %q", got, xssSubject)
	}
	title, err := chromedp.Run(tctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if scripts := eval(`document.scripts.length`); title == "pwned" || scripts != 1 {
		t.Errorf("the subject ran as a script: title %q, %d scripts", title, scripts)
	}

	// A form posted without its CSRF token is refused; nothing is deleted.
	run("message page", chromedp.Navigate(page(eicarRow)), chromedp.WaitVisible(css("#delete")))
	eval(`(function(){var f=document.querySelector("#delete").form; f.querySelector("input[name=csrf]").remove(); f.removeAttribute("data-confirm"); return 1})()`)
	submit("post without csrf", "#delete")
	if got := text("main h1"); got != "403" {
		t.Errorf("delete without CSRF token: %q, want 403", got)
	}
	if out := qscan("", "quarantine", "list", "--json"); !bytes.Contains(out, []byte(eicarRow.Quarantine)) {
		t.Errorf("the entry is gone after a refused delete:\n%s", out)
	}
	run("lists", chromedp.Navigate(base+"/lists"), chromedp.WaitVisible(css("#pattern")), chromedp.SendKeys(css("#pattern"), "*.friend.example"))
	submit("add to the whitelist", "#add")
	if !strings.Contains(text("#whitelist"), "*.friend.example") {
		t.Error("the whitelist entry is not shown")
	}
	shot("lists")
	run("audit", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(css("#audit")))
	if a := text("#audit"); !strings.Contains(a, "release") || !strings.Contains(a, "learn-spam") || !strings.Contains(a, "whitelist") {
		t.Errorf("audit page:\n%s", a)
	}
	shot("audit")

	// A user cannot open another user's message by its URL.
	logout()
	login(bob)
	run("carol's message", chromedp.Navigate(page(carolRow)), chromedp.WaitVisible(css("main h1")))
	if got := text("main h1"); got != "403" {
		t.Errorf("bob opens carol's message: %q, want 403", got)
	}
	if strings.Contains(text("main"), "carol's private mail") {
		t.Error("the 403 page shows carol's message")
	}
	logout()

	// `qscan digest` mails bob his held spam with a release link: a
	// confirmation page, a release on the button, once.
	if out := qscan("", "digest"); !bytes.Contains(out, []byte("digest to bob@example.test: 1 message(s)")) {
		t.Fatalf("qscan digest:\n%s", out)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	link := digestLink(t, s, "bob@example.test", base)
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	run("digest link", chromedp.Navigate(link), chromedp.WaitVisible(css("#confirm")))
	if got := text("#subject"); got != mails[1].subject {
		t.Errorf("the digest link's page shows %q", got)
	}
	shot("digest")
	submit("digest confirm", "#confirm")
	if got := text("#result"); !strings.Contains(got, "released") {
		t.Errorf("digest release: %q", got)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := waitFor(s, mails[1].id, 60*time.Second); err != nil {
		t.Errorf("digest release did not arrive: %v", err)
	} else if len(got.RcptTo) != 1 || got.RcptTo[0] != "bob@example.test" {
		t.Errorf("digest release went to %v", got.RcptTo)
	}
	run("digest again", chromedp.Navigate(link), chromedp.WaitVisible(css("#confirm")))
	submit("digest confirm again", "#confirm")
	if got := text("#result"); !strings.Contains(got, "already been used") {
		t.Errorf("second use of the link: %q", got)
	}
	// A link signed with the configured key for a time already past.
	late := base + "/d/" + web.SignLink([]byte(key), web.Link{ID: gtubeRow.Quarantine, Address: "bob@example.test", Expires: time.Now().Add(-time.Minute)})
	run("expired link", chromedp.Navigate(late), chromedp.WaitVisible(css("#result")))
	if got := text("#result"); !strings.Contains(got, "expired") {
		t.Errorf("expired link: %q", got)
	}
}

// stderrOf returns what a failed command wrote to its standard error.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer 200 after 30 s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLogRows waits until `qscan log` shows n rows and returns them.
func waitLogRows(t *testing.T, bin, cfg string, n int) []store.LogRecord {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := exec.Command(bin, "log", "--json", "--limit", "0", "-c", cfg).Output()
		if err != nil {
			t.Fatalf("qscan log: %v%s", err, stderrOf(err))
		}
		var rows []store.LogRecord
		for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			var r store.LogRecord
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("qscan log --json: %v: %s", err, l)
			}
			if r.Verdict != "report" { // the postmaster's virus report
				rows = append(rows, r)
			}
		}
		if len(rows) >= n {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message log has %d rows after 90 s, want %d:\n%s", len(rows), n, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// digestLink waits for the digest mailed to addr and returns its one
// release link.
func digestLink(t *testing.T, s stackutil.Stack, addr, base string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	re := regexp.MustCompile(regexp.QuoteMeta(base) + `/d/[A-Za-z0-9_.-]+`)
	for {
		msgs, _ := stackutil.ReadSink(s.SinkDir)
		for _, m := range msgs {
			if len(m.RcptTo) != 1 || m.RcptTo[0] != addr || m.MailFrom != "" {
				continue
			}
			body := m.Data
			if _, b, ok := bytes.Cut(m.Data, []byte("\n\n")); ok {
				body = b
			}
			if strings.EqualFold(stackutil.HeaderValue(m.Data, "Content-Transfer-Encoding"), "quoted-printable") {
				if dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
					body = dec
				}
			}
			links := re.FindAll(body, -1)
			if len(links) != 1 {
				t.Fatalf("the digest to %s has %d release links:\n%s", addr, len(links), m.Data)
			}
			return string(links[0])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no digest to %s at the sink after 60 s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
