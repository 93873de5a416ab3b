//go:build e2e

package test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/auth"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/pgstore"
	"github.com/qscan/qscan/test/stackutil"
)

// The shared-store tests run two qscan daemons on one machine as two
// hosts of a group: host A scans the stack's sendmail incoming queue
// (mail submitted over SMTP), host B an incoming queue of its own (mail
// queued with `qscan enqueue`, as sendmail would write it). Each has its
// own work directory, SQLite file (attempts, journal, outbox) and
// quarantine; both write into the stack's outgoing queue, delivered by
// the one sendmail #2 to the sink (as two MX hosts relaying to one
// internal mail server), and share the message log in the stack's
// PostgreSQL, each in a schema of its own test.

const peerKey = "e2e-group-key-0123456789abcdef0123456789"

// sharedDSN makes a fresh schema in the stack's PostgreSQL and returns
// the DSN that uses it.
func sharedDSN(t *testing.T, s stackutil.Stack) string {
	t.Helper()
	if s.PGDSN == "" {
		t.Fatal("the test stack has no QSCAN_PG_DSN: is the postgresql plug-in there?")
	}
	ctx := context.Background()
	admin, err := pgstore.Open(ctx, s.PGDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	if _, err := admin.Pool().Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.PGDSN)
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type host struct {
	name, cfg, dir, web, incoming string
}

func sharedHost(t *testing.T, s stackutil.Stack, name, dsn, incoming, web string, peers map[string]string, noKick bool, extra ...string) host {
	t.Helper()
	var ps []string
	for h, a := range peers {
		ps = append(ps, fmt.Sprintf("%s = %q", h, "http://"+a))
	}
	c := e2eConfig(s, cfgOpts{maxMessages: 20, noKick: noKick})
	c.Incoming, c.StoreDSN, c.StoreHost, c.PeerKey = incoming, dsn, name, peerKey
	c.Extra = fmt.Sprintf("[web]\nlisten = %q\npeers = { %s }\n", web, strings.Join(ps, ", ")) + strings.Join(extra, "")
	dir := t.TempDir()
	p, err := c.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	return host{name: name, cfg: p, dir: filepath.Dir(p), web: web, incoming: incoming}
}

func qscan(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(stackutil.Binary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qscan %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// logRows counts the shared log's rows by queue ID, of host h.
func logRows(t *testing.T, pg *pgstore.Store, h string) map[string]int {
	t.Helper()
	rows, err := pg.Pool().Query(context.Background(), `SELECT queue_id, count(*) FROM log WHERE host = $1 GROUP BY 1`, h)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		rows.Scan(&id, &n)
		out[id] = n
	}
	return out
}

func waitRows(t *testing.T, pg *pgstore.Store, h string, n int, d time.Duration, log *bytes.Buffer) map[string]int {
	t.Helper()
	var got map[string]int
	if !stackutil.WaitUntil(d, func() bool { got = logRows(t, pg, h); return len(got) >= n }) {
		t.Fatalf("host %s: %d of %d messages in the shared log after %s\n%s", h, len(got), n, d, log.String())
	}
	return got
}

// enqueue writes msgs into dir as sendmail queue files.
func enqueue(t *testing.T, dir string, msgs [][]byte) {
	t.Helper()
	src := t.TempDir()
	args := []string{"enqueue", "-q", dir, "-f", "sender@example.org", "-r", "bob@example.test"}
	for i, m := range msgs {
		p := filepath.Join(src, strconv.Itoa(i)+".eml")
		if err := os.WriteFile(p, m, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	qscan(t, args...)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// desk is a logged-in browser session on a web desk.
type desk struct {
	base string
	c    *http.Client
	csrf string
}

func (d *desk) do(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	var req *http.Request
	if form != nil {
		form.Set("csrf", d.csrf)
		req, _ = http.NewRequest(method, d.base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, d.base+path, nil)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if m := csrfField.FindSubmatch(b.Bytes()); m != nil {
		d.csrf = string(m[1])
	}
	return resp.StatusCode, b.String()
}

func login(t *testing.T, addr, user, pw string) *desk {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &desk{base: "http://" + addr, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if !stackutil.WaitUntil(30*time.Second, func() bool {
		resp, err := d.c.Get(d.base + "/login")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatalf("web desk %s does not answer", addr)
	}
	d.do(t, "GET", "/login", nil)
	if code, body := d.do(t, "POST", "/login", url.Values{"name": {user}, "password": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("login on %s = %d\n%s", addr, code, body)
	}
	return d
}

// TestSharedStoreTwoHosts: two daemons with their own queues write one
// message log in PostgreSQL, each row naming its host; the web desk of
// host A releases a message quarantined by host B, and it arrives at the
// sink.
func TestSharedStoreTwoHosts(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "postgresql")
	clean(t, s)
	dsn := sharedDSN(t, s)
	webA, webB := freePort(t), freePort(t)
	inB := filepath.Join(t.TempDir(), "mqueue.in")
	os.MkdirAll(inB, 0o700)
	a := sharedHost(t, s, "mxa", dsn, s.Incoming, webA, map[string]string{"mxb": webB}, false)
	b := sharedHost(t, s, "mxb", dsn, inB, webB, map[string]string{"mxa": webA}, false)
	qscan(t, "migrate", "-c", a.cfg)
	if out := qscan(t, "migrate", "-c", b.cfg); !strings.Contains(out, "up to date") {
		t.Errorf("qscan migrate on the second host:\n%s\nwant the shared schema up to date", out)
	}
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	hash, _ := auth.Hash("e2e-admin-pw")
	if err := pg.AddUser(ctx, store.User{Name: "admin", Role: store.RoleAdmin, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	var logA, logB bytes.Buffer
	dA := stackutil.StartDaemon(t, stackutil.Binary(t), a.cfg, stackutil.DaemonOpts{Log: &logA, Group: true})
	defer dA.Shutdown(t)
	dB := stackutil.StartDaemon(t, stackutil.Binary(t), b.cfg, stackutil.DaemonOpts{Log: &logB, Group: true})
	defer dB.Shutdown(t)

	const n = 10
	var msgsA, msgsB [][]byte
	var infectedB string
	for i := range n {
		m := stackutil.Message("shared-a", i, "two-hosts", i == 0)
		msgsA = append(msgsA, m.Raw)
		mb := stackutil.Message("shared-b", i, "two-hosts", i == 0)
		msgsB = append(msgsB, mb.Raw)
		if i == 0 {
			infectedB = mb.ID
		}
	}
	for _, err := range stackutil.SubmitAll(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, msgsA) {
		if err != nil {
			t.Fatal(err)
		}
	}
	enqueue(t, inB, msgsB)
	rowsA := waitRows(t, pg, "mxa", n, 2*time.Minute, &logA)
	rowsB := waitRows(t, pg, "mxb", n, 2*time.Minute, &logB)
	for h, rows := range map[string]map[string]int{"mxa": rowsA, "mxb": rowsB} {
		for id, c := range rows {
			if c != 1 {
				t.Errorf("host %s: %s logged %d times, want once", h, id, c)
			}
		}
	}
	// Every message out, the infected ones cleaned: 2n at the sink.
	if _, err := stackutil.WaitSink(s.SinkDir, 2*n, 3*time.Minute); err != nil {
		s.Flush()
		if _, err := stackutil.WaitSink(s.SinkDir, 2*n, time.Minute); err != nil {
			t.Fatalf("%v\nA:\n%s\nB:\n%s", err, logA.String(), logB.String())
		}
	}
	// B's quarantined message, released from A's desk.
	recs, err := pg.SearchLog(ctx, store.LogQuery{Host: "mxb", Verdict: "infected"})
	if err != nil || len(recs) != 1 || recs[0].Quarantine == "" {
		t.Fatalf("B's infected message in the shared log: %+v, %v", recs, err)
	}
	row := recs[0].Row
	d := login(t, webA, "admin", "e2e-admin-pw")
	code, body := d.do(t, "GET", "/message/"+strconv.FormatInt(row, 10), nil)
	if code != http.StatusOK || !strings.Contains(body, `id="release"`) {
		t.Fatalf("A's page of B's quarantined message = %d, want its release button\n%s", code, body)
	}
	if code, body := d.do(t, "POST", "/message/"+strconv.FormatInt(row, 10)+"/release", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("release on A of B's message = %d\n%s\nB:\n%s", code, body, logB.String())
	}
	got, err := stackutil.WaitSink(s.SinkDir, 2*n+1, 2*time.Minute)
	if err != nil {
		s.Flush()
		if got, err = stackutil.WaitSink(s.SinkDir, 2*n+1, time.Minute); err != nil {
			t.Fatalf("the released message did not arrive: %v\nB:\n%s", err, logB.String())
		}
	}
	released := 0
	for _, m := range got {
		if stackutil.HeaderValue(m.Data, "Message-ID") == infectedB && stackutil.HeaderValue(m.Data, "X-E2E-QScan-Released") != "" {
			released++
		}
	}
	if released != 1 {
		t.Errorf("%d released copies of %s at the sink, want 1", released, infectedB)
	}
	if !strings.Contains(logB.String(), "for host mxa") {
		t.Errorf("B's log does not say it released for host mxa:\n%s", logB.String())
	}
	// With B down, A's desk says so.
	dB.Shutdown(t)
	code, body = d.do(t, "GET", "/message/"+strconv.FormatInt(row, 10), nil)
	if code != http.StatusOK || !strings.Contains(body, "Host mxb does not answer") {
		t.Errorf("A's page with B down = %d, want 'Host mxb does not answer'\n%s", code, body)
	}
}

// outageMessages is how many messages TestSharedStoreOutage drains (1000
// with the reliability tag: shared_rel_test.go).
var outageMessages = 300

// TestSharedStoreOutage: PostgreSQL stopped for 30 s while a host drains
// its queue: the mail goes on, the log rows wait in the outbox (qscan
// check says so), and afterwards every message is in the log once.
func TestSharedStoreOutage(t *testing.T) {
	s := stackutil.Require(t, "sink", "sendmail", "postgresql")
	clean(t, s)
	dsn := sharedDSN(t, s)
	in := filepath.Join(t.TempDir(), "mqueue.in")
	os.MkdirAll(in, 0o700)
	h := sharedHost(t, s, "mxo", dsn, in, freePort(t), nil, true, "[check]\noutbox_max_age = \"5s\"\n")
	qscan(t, "migrate", "-c", h.cfg)
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	n := outageMessages
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, stackutil.Message("outage", i, "pg-outage", i%50 == 0).Raw)
	}
	// Queued in four parts: one before the outage, three during it.
	enqueue(t, in, msgs[:n/4])
	var logBuf bytes.Buffer
	d := stackutil.StartDaemon(t, stackutil.Binary(t), h.cfg, stackutil.DaemonOpts{Log: &logBuf, Group: true})
	defer d.Shutdown(t)
	waitRows(t, pg, "mxo", n/8, 2*time.Minute, &logBuf)
	if err := s.Stop("postgresql"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			s.Start("postgresql")
		}
	}()
	enqueue(t, in, msgs[n/4:])
	out := func() int { qf, _ := filepath.Glob(filepath.Join(s.Outgoing, "qf*")); return len(qf) }
	drained := stackutil.WaitUntil(25*time.Second, func() bool { return out() >= n })
	db := filepath.Join(h.dir, "work", "qscan.db")
	lag, err := store.PathOutboxLag(ctx, db)
	if err != nil || lag.Rows == 0 {
		t.Errorf("outbox during the outage: %+v, %v; want rows waiting", lag, err)
	}
	time.Sleep(6 * time.Second) // past outbox_max_age
	if o, _ := exec.Command(stackutil.Binary(t), "check", "-c", h.cfg).CombinedOutput(); !strings.Contains(string(o), "rows wait for PostgreSQL") {
		t.Errorf("qscan check during the outage:\n%s\nwant the outbox line", o)
	}
	time.Sleep(time.Until(stopped.Add(30 * time.Second)))
	if err := s.Start("postgresql"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	if !drained && !stackutil.WaitUntil(3*time.Minute, func() bool { return out() >= n }) {
		t.Fatalf("%d of %d messages in the outgoing queue\n%s", out(), n, logBuf.String())
	}
	if !drained {
		t.Logf("the drain finished after the outage (%d messages)", n)
	}
	rows := waitRows(t, pg, "mxo", n, 3*time.Minute, &logBuf)
	for id, c := range rows {
		if c != 1 {
			t.Errorf("%s logged %d times, want once", id, c)
		}
	}
	if len(rows) != n {
		t.Errorf("%d messages in the log, want %d", len(rows), n)
	}
	// Each message out, and the postmaster's reports of the infected.
	if got := out(); got < n {
		t.Errorf("%d messages in the outgoing queue, want %d and the reports (none lost)", got, n)
	}
	if !stackutil.WaitUntil(time.Minute, func() bool { l, _ := store.PathOutboxLag(ctx, db); return l.Rows == 0 }) {
		t.Error("the outbox is not empty after PostgreSQL came back")
	}
	if !strings.Contains(logBuf.String(), "cannot send the outbox to PostgreSQL") {
		t.Errorf("no log line for the outage:\n%s", logBuf.String())
	}
}
