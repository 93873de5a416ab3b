//go:build e2e

package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/test/stackutil"
)

// filterDaemon writes the shipped configuration for qscan as the filter
// Postfix's content filter (paths and addresses only, and the stack's
// clamd and spamd as the engines) and starts `qscan run`.
func filterDaemon(t *testing.T, s stackutil.Stack, listen, reinject string, log *syncBuf) (*stackutil.Daemon, string) {
	t.Helper()
	root := t.TempDir()
	text, err := stackutil.ShippedFor(s, root)
	if err != nil {
		t.Fatal(err)
	}
	text, err = stackutil.ReplaceKeys(text, map[string]string{
		"smtp.listen":    "[" + stackutil.Quote(listen) + "]",
		"smtp.spool":     stackutil.Quote(filepath.Join(root, "spool")),
		"smtp.reinject":  stackutil.Quote(reinject),
		"virus.scanners": `["clamd"]`,
		"spam.engines":   `["spamd"]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(stackutil.Binary(t), "lint", "--no-engines", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("lint of the filter configuration: %v\n%s", err, out)
	}
	d := stackutil.StartDaemon(t, stackutil.Binary(t), cfg, stackutil.DaemonOpts{Log: log, Group: true})
	return d, root
}

// syncBuf is a log buffer the daemon writes while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// byMessageID waits until the sink holds a message for each of ids and
// returns the sink's messages by Message-ID (a list: duplicates show).
func byMessageID(t *testing.T, sinkDir string, ids []string, timeout time.Duration, log fmt.Stringer) map[string][]stackutil.SinkMsg {
	t.Helper()
	var got map[string][]stackutil.SinkMsg
	ok := stackutil.WaitUntil(timeout, func() bool {
		msgs, _ := stackutil.ReadSink(sinkDir)
		got = map[string][]stackutil.SinkMsg{}
		for _, m := range msgs {
			id := stackutil.HeaderValue(m.Data, "Message-ID")
			got[id] = append(got[id], m)
		}
		for _, id := range ids {
			if len(got[id]) == 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		missing := 0
		for _, id := range ids {
			if len(got[id]) == 0 {
				missing++
			}
		}
		t.Fatalf("%d of %d messages did not reach the sink in %s\nqscan log (tail):\n%s", missing, len(ids), timeout, tail(log.String(), 4000))
	}
	return got
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestFilterPostfixPassThrough: 200 messages through the real Postfix ->
// qscan (content_filter, XFORWARD) -> Postfix (10025) -> sink: each arrives
// once, its body byte for byte as submitted (Postfix passes bodies
// unchanged with disable_mime_output_conversion), qscan's header added,
// and qscan's log names the client Postfix saw (XCLIENT 192.0.2.77, sent
// on by XFORWARD).
func TestFilterPostfixPassThrough(t *testing.T) {
	s, pf := stackutil.RequirePostfixFilter(t, "clamd", "spamd")
	clean(t, s)
	if err := pf.SetAccess(); err != nil {
		t.Fatal(err)
	}
	log := &syncBuf{}
	d, root := filterDaemon(t, s, pf.Filter, pf.Reinject, log)
	defer d.Shutdown(t)
	const n = 200
	var ids []string
	raw := map[string][]byte{}
	for i := 0; i < n; i++ {
		m := stackutil.Message("filter", i, "pass", false)
		ids = append(ids, m.ID)
		raw[m.ID] = m.Raw
		env := stackutil.Envelope{From: "sender@example.org", To: []string{m.Rcpt}, XClient: "ADDR=192.0.2.77 NAME=client.example.test HELO=client.example.test"}
		if err := stackutil.SubmitEnvelope(pf.SMTP, env, m.Raw); err != nil {
			t.Fatal(err)
		}
	}
	got := byMessageID(t, s.SinkDir, ids, 5*time.Minute, log)
	for _, id := range ids {
		ms := got[id]
		if len(ms) != 1 {
			t.Errorf("%s arrived %d times", id, len(ms))
			continue
		}
		if !bytes.Equal(stackutil.BodyOf(ms[0].Data), stackutil.BodyOf(raw[id])) {
			t.Errorf("%s: body changed on the way", id)
		}
		if v := stackutil.HeaderValue(ms[0].Data, "X-QScan"); v == "" && !bytes.Contains(ms[0].Data, []byte("-QScan: ")) {
			t.Errorf("%s: no qscan header:\n%s", id, ms[0].Data[:min(len(ms[0].Data), 2000)])
		}
	}
	if !strings.Contains(log.String(), "client=192.0.2.77") {
		t.Errorf("qscan's log does not name the XFORWARD client 192.0.2.77:\n%s", tail(log.String(), 3000))
	}
	waitEmptySpool(t, filepath.Join(root, "spool"))
}

func waitEmptySpool(t *testing.T, dir string) {
	t.Helper()
	if !stackutil.WaitUntil(time.Minute, func() bool { m, _ := filepath.Glob(filepath.Join(dir, "ef*")); return len(m) == 0 }) {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		t.Errorf("spool keeps %v", m)
	}
}

// TestFilterPostfixScenarios: through the real Postfix and qscan, EICAR is
// cleaned (the original quarantined), GTUBE found high spam by spamd and
// stored (the shipped high_spam_actions), DSN
// parameters survive both hops (NOTIFY=SUCCESS makes the last Postfix
// send a "relayed" notice with the ENVID and ORCPT given at the start), a
// re-injection listener that answers 451 and then accepts delays the
// message only, and a 550 for one of two recipients sends the sender a DSN
// while the other gets the message.
func TestFilterPostfixScenarios(t *testing.T) {
	s, pf := stackutil.RequirePostfixFilter(t, "clamd", "spamd")
	clean(t, s)
	if err := pf.SetAccess("later@example.test 451 4.3.0 try again later", "nobody@example.test 550 5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	defer pf.SetAccess()
	log := &syncBuf{}
	d, root := filterDaemon(t, s, pf.Filter, pf.Reinject, log)
	defer d.Shutdown(t)
	submit := func(env stackutil.Envelope, subject, body string) string {
		id := fmt.Sprintf("<%s@filter.example>", strings.ReplaceAll(subject, " ", "-"))
		msg := fmt.Sprintf("From: sender@example.org\nTo: %s\nSubject: %s\nMessage-ID: %s\n\n%s", env.To[0], subject, id, body)
		if err := stackutil.SubmitEnvelope(pf.SMTP, env, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	plain := func(to ...string) stackutil.Envelope { return stackutil.Envelope{From: "sender@example.org", To: to} }
	eicar := submit(plain("bob@example.test"), "eicar test",
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=eicar.com\n\n"+stackutil.EICAR+"\n--b--\n")
	gtube := submit(plain("bob@example.test"), "gtube test", "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n")
	dsnEnv := plain("carol@example.test")
	dsnEnv.Mail = smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "qscan-envid-42"}
	dsnEnv.Rcpt = []smtp.RcptOptions{{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure},
		OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "carol-original@example.test"}}
	dsn := submit(dsnEnv, "dsn test", "dsn parameters\n")
	later := submit(plain("later@example.test"), "later test", "deferred first\n")
	half := submit(plain("dave@example.test", "nobody@example.test"), "half test", "one of two\n")

	got := byMessageID(t, s.SinkDir, []string{eicar, dsn, half}, 3*time.Minute, log)
	e := got[eicar][0].Data
	if bytes.Contains(e, []byte(stackutil.EICAR[20:])) || !bytes.Contains(bytes.ToLower(e), []byte("infected")) {
		t.Errorf("EICAR message not cleaned:\n%s", e)
	}
	if q, _ := filepath.Glob(filepath.Join(root, "quarantine", "*", "*", "metadata.json")); len(q) == 0 {
		t.Error("nothing quarantined for the EICAR message")
	}
	// GTUBE scores 1000 with spamd: high spam, whose shipped action is
	// "store" (quarantined, not delivered).
	if len(got[gtube]) != 0 {
		t.Errorf("GTUBE message delivered, want it stored (high_spam_actions = store)")
	}
	// The verdict lines are written when a batch ends: the GTUBE one may
	// follow the "half" message's delivery.
	highSpam := func() bool {
		return strings.Contains(log.String(), "verdict=high-spam") && strings.Contains(log.String(), `reason="high-spam (score`)
	}
	if !stackutil.WaitUntil(time.Minute, highSpam) {
		t.Errorf("GTUBE not found high spam by spamd:\n%s", tail(log.String(), 3000))
	}
	if h := got[half]; len(h) != 1 || strings.Join(h[0].RcptTo, ",") != "dave@example.test" {
		t.Errorf("half message: %+v", h)
	}
	// The notices from <>: "relayed" for the DSN test (ENVID, ORCPT kept),
	// the failure for nobody@.
	var relayed, failed bool
	stackutil.WaitUntil(2*time.Minute, func() bool {
		msgs, _ := stackutil.ReadSink(s.SinkDir)
		for _, m := range msgs {
			if m.MailFrom != "" {
				continue
			}
			if bytes.Contains(m.Data, []byte("qscan-envid-42")) && bytes.Contains(m.Data, []byte("carol-original@example.test")) && bytes.Contains(m.Data, []byte("relayed")) {
				relayed = true
			}
			if bytes.Contains(m.Data, []byte("nobody@example.test")) && bytes.Contains(m.Data, []byte("5.1.1")) && strings.Join(m.RcptTo, ",") == "sender@example.org" {
				failed = true
			}
		}
		return relayed && failed
	})
	if !relayed {
		t.Error("no \"relayed\" DSN with the ENVID and ORCPT given at submission: DSN parameters lost on the way")
	}
	if !failed {
		t.Error("no DSN to the sender for the recipient the downstream refused with 550")
	}
	// The 451: held in qscan's spool, then accepted once the listener
	// takes it.
	if !stackutil.WaitUntil(time.Minute, func() bool { return strings.Contains(log.String(), "451 4.3.0") }) {
		t.Fatalf("the downstream's 451 is not in qscan's log:\n%s", tail(log.String(), 3000))
	}
	if ms, _ := stackutil.ReadSink(s.SinkDir); containsID(ms, later) {
		t.Fatal("the deferred message arrived while the downstream said 451")
	}
	if err := pf.SetAccess("nobody@example.test 550 5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	if l := byMessageID(t, s.SinkDir, []string{later}, 3*time.Minute, log)[later]; len(l) != 1 {
		t.Errorf("deferred message arrived %d times", len(l))
	}
	waitEmptySpool(t, filepath.Join(root, "spool"))
}

func containsID(ms []stackutil.SinkMsg, id string) bool {
	for _, m := range ms {
		if stackutil.HeaderValue(m.Data, "Message-ID") == id {
			return true
		}
	}
	return false
}

// TestFilterPostfixCrash: 500 messages through Postfix and qscan while
// qscan is killed with SIGKILL 12 times (restarted each time): none is
// lost; duplicates (the windows SMTP leaves: between qscan's spool commit
// and Postfix getting the 250, and between the downstream's 250 and qscan's
// journal record) are counted and reported.
func TestFilterPostfixCrash(t *testing.T) {
	s, pf := stackutil.RequirePostfixFilter(t, "clamd", "spamd")
	clean(t, s)
	if err := pf.SetAccess(); err != nil {
		t.Fatal(err)
	}
	log := &syncBuf{}
	d, root := filterDaemon(t, s, pf.Filter, pf.Reinject, log)
	cfg := filepath.Join(root, "qscan.toml")
	const n, kills = 500, 12
	var ids []string
	var msgs [][]byte
	for i := 0; i < n; i++ {
		m := stackutil.Message("filtercrash", i, "crash", i%25 == 0)
		ids, msgs = append(ids, m.ID), append(msgs, m.Raw)
	}
	done := make(chan []error, 1)
	go func() {
		done <- stackutil.SubmitAll(pf.SMTP, "sender@example.org", []string{"bob@example.test"}, msgs)
	}()
	for k := 0; k < kills; k++ {
		// Let some mail through, then kill qscan mid-flow.
		before := sinkCount(s.SinkDir)
		stackutil.WaitUntil(20*time.Second, func() bool { return sinkCount(s.SinkDir) >= before+15 })
		d.Kill()
		time.Sleep(200 * time.Millisecond)
		d = stackutil.StartDaemon(t, stackutil.Binary(t), cfg, stackutil.DaemonOpts{Log: log, Group: true})
	}
	defer func() { d.Shutdown(t) }()
	for _, err := range <-done {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Postfix retries what qscan did not answer 250 every few seconds.
	got := byMessageID(t, s.SinkDir, ids, 8*time.Minute, log)
	dups := 0
	for _, id := range ids {
		dups += len(got[id]) - 1
	}
	// Which window: two copies with the same spool ID (X-yoursite-QScan-ID)
	// were sent twice by qscan (killed after the downstream's 250, before
	// the journal record); copies with different IDs were spooled twice
	// (killed before Postfix read the 250 of the first copy).
	out := 0
	for _, id := range ids {
		seen := map[string]bool{}
		for _, m := range got[id] {
			qid := stackutil.HeaderValue(m.Data, "X-yoursite-QScan-ID")
			if seen[qid] {
				out++
			}
			seen[qid] = true
		}
	}
	t.Logf("%d messages, %d SIGKILLs of qscan: 0 lost, %d duplicates (%.2f%%): %d re-sent after the downstream's 250 (before qscan's journal record), %d accepted twice from Postfix (killed before Postfix read the 250)",
		n, kills, dups, 100*float64(dups)/n, out, dups-out)
	if c := strings.Count(log.String(), "recovery: re-injected batch interrupted"); c > 0 {
		t.Logf("qscan recovered %d interrupted re-injected batches", c)
	}
	waitEmptySpool(t, filepath.Join(root, "spool"))
}

func sinkCount(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	return len(m)
}

// TestFilterEximPassThrough: 200 messages through the real Exim 4.96 ->
// qscan -> Exim (the re-injection port, whose mail the router does not send
// to qscan again) -> sink, set up as the README says: each arrives once,
// scanned (qscan's header), its body byte for byte as submitted; the spool
// ends empty.
func TestFilterEximPassThrough(t *testing.T) {
	s, ef := stackutil.RequireEximFilter(t, "clamd", "spamd")
	clean(t, s)
	log := &syncBuf{}
	d, root := filterDaemon(t, s, ef.Filter, ef.Reinject, log)
	defer d.Shutdown(t)
	const n = 200
	var ids []string
	raw := map[string][]byte{}
	var msgs [][]byte
	for i := 0; i < n; i++ {
		m := stackutil.Message("eximfilter", i, "pass", false)
		ids = append(ids, m.ID)
		raw[m.ID] = m.Raw
		msgs = append(msgs, m.Raw)
	}
	for _, err := range stackutil.SubmitAll(ef.SMTP, "sender@example.org", []string{"bob@example.test"}, msgs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := byMessageID(t, s.SinkDir, ids, 5*time.Minute, log)
	for _, id := range ids {
		ms := got[id]
		if len(ms) != 1 {
			t.Errorf("%s arrived %d times", id, len(ms))
			continue
		}
		if !bytes.Equal(stackutil.BodyOf(ms[0].Data), stackutil.BodyOf(raw[id])) {
			t.Errorf("%s: body changed on the way", id)
		}
		if !bytes.Contains(ms[0].Data, []byte("-QScan: Found to be clean")) {
			t.Errorf("%s: not scanned:\n%s", id, ms[0].Data[:min(len(ms[0].Data), 2000)])
		}
	}
	waitEmptySpool(t, filepath.Join(root, "spool"))
}
