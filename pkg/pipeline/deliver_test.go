package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/spool"
)

// sentMsg is one message the fake downstream got.
type sentMsg struct {
	env  spool.Envelope
	data string
	size int64
}

// fakeSender is a downstream: answer (when set) decides each reply by the
// call's number, else every recipient is accepted.
type fakeSender struct {
	mu     sync.Mutex
	got    []sentMsg
	calls  int
	answer func(n int, m reinject.Message) (*reinject.Result, error)
}

func (f *fakeSender) Send(_ context.Context, m reinject.Message) (*reinject.Result, error) {
	data, _ := io.ReadAll(m.Data)
	f.mu.Lock()
	n := f.calls
	f.calls++
	f.mu.Unlock()
	var res *reinject.Result
	var err error
	if f.answer != nil {
		res, err = f.answer(n, m)
	}
	if res == nil && err == nil {
		res = &reinject.Result{Data: reinject.Reply{Code: 250, Text: "Ok: queued"}}
		for _, r := range m.Env.Recipients {
			res.Accepted = append(res.Accepted, reinject.RcptResult{Recipient: r, Reply: reinject.Reply{Code: 250}})
		}
	}
	if err == nil && len(res.Accepted) > 0 {
		f.mu.Lock()
		env := *m.Env
		env.Recipients = nil
		for _, a := range res.Accepted {
			env.Recipients = append(env.Recipients, a.Recipient)
		}
		f.got = append(f.got, sentMsg{env: env, data: string(data), size: m.Size})
		f.mu.Unlock()
	}
	return res, err
}

func (f *fakeSender) sent() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.got...)
}

// spoolEnv is env with the filter's spool as its incoming queue and f as
// the downstream.
func spoolEnv(t *testing.T) (*env, Options, *fakeSender) {
	e := newEnv(t)
	opt := e.options()
	opt.Outgoing = ""
	opt.MTA = NewSpool(spool.Limits{}, sendmail.NewIDGen(e.now, 4343, 0))
	f := &fakeSender{}
	opt.Reinject = f
	opt.DSN = reinject.DSNOptions{ReportingMTA: "filter.example"}
	return e, opt, f
}

var spoolIDs = sendmail.NewIDGen(time.Now, 4242, 0)

// enqueueSpool spools a message as the front end does: from a@example.org
// to rcpts, with DSN parameters and XFORWARD of client 192.0.2.7.
func (e *env) enqueueSpool(data string, rcpts ...string) string {
	e.t.Helper()
	if len(rcpts) == 0 {
		rcpts = []string{"b@example.test"}
	}
	env := &spool.Envelope{Received: e.now(), Protocol: "ESMTP", Listener: "127.0.0.1:10024", Client: "127.0.0.1:40000", Helo: "mta.example",
		Sender: "a@example.org", Return: "HDRS", EnvID: "env+id", Body: "8BITMIME",
		XForward: spool.XForward{Name: "client.example", Addr: "192.0.2.7", Proto: "ESMTP", Helo: "client-helo.example", Ident: "4Xyz", Source: "REMOTE"}}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, spool.Recipient{Addr: r, Notify: []string{"FAILURE", "DELAY"}, ORcptType: "RFC822", ORcpt: r})
	}
	id, _, err := spool.Spool{Dir: e.in}.Publish(spoolIDs, env, strings.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

const spoolMsg = "From: a@example.org\nTo: b@example.test\nSubject: spool test\n\nline one\n.dot line\n\nlast line\n"

// TestSpoolPassThrough: a clean message spooled by the front end is sent
// downstream once, with its envelope and DSN parameters unchanged, qscan's
// header added, the body byte for byte, SIZE counting CRLFs; the checks
// saw the XFORWARD client; the spool entry is released.
func TestSpoolPassThrough(t *testing.T) {
	e, opt, f := spoolEnv(t)
	id := e.enqueueSpool(spoolMsg)
	var seen message.Envelope
	var seenHeader string
	look := stageFunc{"look", func(_ context.Context, m *message.Message) error {
		seen, seenHeader = m.Envelope, string(m.Header)
		return nil
	}}
	p := e.pipeline(opt, look)
	st, err := p.RunBatch(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if seen.ClientIP != netip.MustParseAddr("192.0.2.7") || seen.Helo != "client-helo.example" || seen.ClientHost != "client.example" || seen.Sender != "a@example.org" {
		t.Errorf("the checks saw %+v", seen)
	}
	if seenHeader != "From: a@example.org\nTo: b@example.test\nSubject: spool test\n" {
		t.Errorf("the checks saw header %q", seenHeader)
	}
	got := f.sent()
	if len(got) != 1 {
		t.Fatalf("sent %d messages", len(got))
	}
	m := got[0]
	hdr, body, _ := strings.Cut(m.data, "\n\n")
	if body != "line one\n.dot line\n\nlast line\n" {
		t.Errorf("body = %q", body)
	}
	if !strings.HasPrefix(hdr, "From: a@example.org\nTo: b@example.test\nSubject: spool test\n") || !strings.Contains(hdr, "X-test-QScan: Found to be clean") {
		t.Errorf("header = %q", hdr)
	}
	if want := int64(len(m.data) + strings.Count(m.data, "\n")); m.size != want {
		t.Errorf("SIZE = %d, want %d", m.size, want)
	}
	r := m.env.Recipients
	if m.env.Sender != "a@example.org" || m.env.Return != "HDRS" || m.env.EnvID != "env+id" || m.env.Body != "8BITMIME" ||
		len(r) != 1 || r[0].ORcpt != "b@example.test" || strings.Join(r[0].Notify, ",") != "FAILURE,DELAY" || m.env.XForward.Addr != "192.0.2.7" {
		t.Errorf("envelope = %+v", m.env)
	}
	if left := names(t, e.in); len(left) != 0 {
		t.Errorf("spool keeps %v", left)
	}
	if !strings.Contains(readFile(t, filepath.Join(e.work, "journal")), `"op":"sent"`) {
		t.Error("no sent record in the journal")
	}
	_ = id
}

// TestSpoolTempErrorHoldsThatMessage: a 4xx for one message holds that
// message only (kept in the spool, its attempt taken back) and the others
// go; after its backoff it is sent.
func TestSpoolTempErrorHoldsThatMessage(t *testing.T) {
	e, opt, f := spoolEnv(t)
	bad := e.enqueueSpool("Subject: busy\n\nbody\n")
	good := e.enqueueSpool("Subject: fine\n\nbody\n")
	f.answer = func(n int, m reinject.Message) (*reinject.Result, error) {
		if n == 0 {
			return nil, &reinject.TempError{Stage: "MAIL", Reply: reinject.Reply{Code: 451, Text: "try later"}}
		}
		return nil, nil
	}
	opt.ReinjectParallel = 1 // the first call is the first message
	p := e.pipeline(opt)
	st, err := p.RunBatch(ctx)
	if err != nil || st.Delivered != 1 || st.Held != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if !(spool.Spool{Dir: e.in}).Taken(bad) || (spool.Spool{Dir: e.in}).Taken(good) {
		t.Errorf("spool = %v, want %s kept and %s released", names(t, e.in), bad, good)
	}
	if as, _ := e.st.Attempts(ctx, 1); len(as) != 0 {
		t.Errorf("attempts = %+v, want none (the downstream's fault, not the message's)", as)
	}
	if st, _ := p.RunBatch(ctx); st.Claimed != 0 {
		t.Errorf("claimed %d during the backoff", st.Claimed)
	}
	e.advance(opt.RetryMax)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("retry = %+v, %v", st, err)
	}
	if len(f.sent()) != 2 || len(names(t, e.in)) != 0 {
		t.Errorf("sent %d, spool %v", len(f.sent()), names(t, e.in))
	}
}

// TestSpoolDeferredRecipient: one recipient accepted, one deferred: the
// spool entry keeps only the deferred one and is held; the retry goes to
// that recipient only.
func TestSpoolDeferredRecipient(t *testing.T) {
	e, opt, f := spoolEnv(t)
	id := e.enqueueSpool(spoolMsg, "b@example.test", "c@example.test")
	f.answer = func(n int, m reinject.Message) (*reinject.Result, error) {
		if n > 0 {
			return nil, nil
		}
		return &reinject.Result{Accepted: []reinject.RcptResult{{Recipient: m.Env.Recipients[0], Reply: reinject.Reply{Code: 250}}},
			Deferred: []reinject.RcptResult{{Recipient: m.Env.Recipients[1], Reply: reinject.Reply{Code: 452, Text: "full"}}},
			Data:     reinject.Reply{Code: 250}}, nil
	}
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Held != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	env := spoolEnvelope(t, e.in, id)
	if len(env.Recipients) != 1 || env.Recipients[0].Addr != "c@example.test" || env.Recipients[0].ORcpt != "c@example.test" {
		t.Fatalf("spool envelope recipients = %+v", env.Recipients)
	}
	e.advance(opt.RetryMax)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("retry = %+v, %v", st, err)
	}
	got := f.sent()
	if len(got) != 2 || got[1].env.Recipients[0].Addr != "c@example.test" || len(got[1].env.Recipients) != 1 {
		t.Errorf("sent %+v", got)
	}
	if len(names(t, e.in)) != 0 {
		t.Errorf("spool keeps %v", names(t, e.in))
	}
}

func spoolEnvelope(t *testing.T, dir, id string) *spool.Envelope {
	t.Helper()
	lk, err := spool.Lock(filepath.Join(dir, "ef"+id), "")
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	env, err := lk.Envelope(spool.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// rejectSecond refuses the second recipient of the first message.
func rejectSecond(n int, m reinject.Message) (*reinject.Result, error) {
	if n > 0 || len(m.Env.Recipients) < 2 {
		return nil, nil
	}
	return &reinject.Result{Accepted: []reinject.RcptResult{{Recipient: m.Env.Recipients[0], Reply: reinject.Reply{Code: 250}}},
		Rejected: []reinject.RcptResult{{Recipient: m.Env.Recipients[1], Reply: reinject.Reply{Code: 550, Enhanced: "5.1.1", Text: "no such user"}}},
		Data:     reinject.Reply{Code: 250}}, nil
}

// TestSpoolRejectBounce: a 5xx for one of two recipients: the message goes
// to the other, a DSN about the refused one goes to the sender from <>,
// and the spool entry is released.
func TestSpoolRejectBounce(t *testing.T) {
	e, opt, f := spoolEnv(t)
	e.enqueueSpool(spoolMsg, "b@example.test", "gone@example.test")
	f.answer = rejectSecond
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	got := f.sent()
	if len(got) != 2 {
		t.Fatalf("sent %d messages, want the message and the DSN", len(got))
	}
	dsn := got[1]
	if dsn.env.Sender != "" || dsn.env.Recipients[0].Addr != "a@example.org" ||
		!strings.Contains(dsn.data, "multipart/report") || !strings.Contains(dsn.data, "Final-Recipient: rfc822; gone@example.test") || !strings.Contains(dsn.data, "5.1.1") {
		t.Errorf("DSN %+v\n%s", dsn.env, dsn.data)
	}
	if len(names(t, e.in)) != 0 {
		t.Errorf("spool keeps %v", names(t, e.in))
	}
}

// TestSpoolRejectHold: with on_reject = hold the refused recipient is kept
// in the spool (held), no DSN goes out.
func TestSpoolRejectHold(t *testing.T) {
	e, opt, f := spoolEnv(t)
	id := e.enqueueSpool(spoolMsg, "b@example.test", "gone@example.test")
	f.answer = rejectSecond
	opt.OnReject = "hold"
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Held != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if got := f.sent(); len(got) != 1 {
		t.Errorf("sent %d messages, want 1 (no DSN)", len(got))
	}
	if env := spoolEnvelope(t, e.in, id); len(env.Recipients) != 1 || env.Recipients[0].Addr != "gone@example.test" {
		t.Errorf("spool recipients = %+v", env.Recipients)
	}
}

// TestSpoolPermErrorBounces: the whole message refused (5xx to DATA): a DSN
// for every recipient, the spool entry released.
func TestSpoolPermErrorBounces(t *testing.T) {
	e, opt, f := spoolEnv(t)
	e.enqueueSpool(spoolMsg)
	f.answer = func(n int, m reinject.Message) (*reinject.Result, error) {
		if n == 0 {
			return nil, &reinject.PermError{Stage: "DATA", Reply: reinject.Reply{Code: 554, Text: "no"},
				Rejected: []reinject.RcptResult{{Recipient: m.Env.Recipients[0], Reply: reinject.Reply{Code: 554, Text: "no"}}}}
		}
		return nil, nil
	}
	p := e.pipeline(opt)
	if _, err := p.RunBatch(ctx); err != nil {
		t.Fatal(err)
	}
	got := f.sent()
	if len(got) != 1 || got[0].env.Sender != "" || !strings.Contains(got[0].data, "b@example.test") {
		t.Fatalf("sent %+v", got)
	}
	if len(names(t, e.in)) != 0 {
		t.Errorf("spool keeps %v", names(t, e.in))
	}
}

// TestSpoolCleanedAndReport: an infected message goes out cleaned, its
// original is quarantined, and the postmaster report is re-injected too.
func TestSpoolCleanedAndReport(t *testing.T) {
	e, opt, f := spoolEnv(t)
	id := e.enqueueSpool(spoolMsg)
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	opt.Notifier = &fakeNotifier{}
	p := e.pipeline(opt, infect)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	// The report waits in the spool (written before the batch's prepare
	// record: never lost) and goes out with the next batch.
	if got := f.sent(); len(got) != 1 {
		t.Fatalf("sent %d in the first batch, want the cleaned message only", len(got))
	}
	left, _ := (spool.Spool{Dir: e.in}).List()
	if len(left) != 1 {
		t.Fatalf("spool = %v, want the report", names(t, e.in))
	}
	if env := spoolEnvelope(t, e.in, left[0].ID); env.Listener != GeneratedListener || env.Sender != "" {
		t.Errorf("spooled report envelope %+v", env)
	}
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("second batch = %+v, %v", st, err)
	}
	got := f.sent()
	if len(got) != 2 {
		t.Fatalf("sent %d, want the cleaned message and the report", len(got))
	}
	var msg, report sentMsg
	for _, g := range got {
		if g.env.Sender == "" {
			report = g
		} else {
			msg = g
		}
	}
	if !strings.HasSuffix(msg.data, "\n\ncleaned body\n") || !strings.Contains(msg.data, "X-test-QScan: Found to be infected") || !strings.Contains(msg.data, "boundary=x") {
		t.Errorf("cleaned message:\n%s", msg.data)
	}
	if report.env.Recipients[0].Addr != "postmaster@example.test" {
		t.Errorf("report %+v\n%s", report.env, report.data)
	}
	entries := quarantineEntries(t, e.quar)
	if len(entries) != 1 || entries[0] != id {
		t.Fatalf("quarantine = %v", entries)
	}
	dir := filepath.Join(e.quar, "20261122", entries[0])
	// The whole message file, header and body: the envelope (qf) has no
	// header.
	b, _ := os.ReadFile(filepath.Join(dir, "df"+id))
	if string(b) != spoolMsg {
		t.Errorf("quarantined original = %q, want the message as spooled", b)
	}
	// Released: re-injected with the original envelope, the header set,
	// the body unchanged, not checked again.
	ctl, _ := os.ReadFile(filepath.Join(dir, "qf"+id))
	r := SpoolReleaser{Send: f, IDs: spoolIDs}
	newID, to, err := r.Release(ctl, b, nil, "X-test-QScan-Released", "now")
	if err != nil || newID == "" || len(to) != 1 || to[0] != "b@example.test" {
		t.Fatalf("Release = %q, %v, %v", newID, to, err)
	}
	rel := f.sent()[2]
	if !strings.Contains(rel.data, "\nX-test-QScan-Released: now\n") || !strings.HasSuffix(rel.data, "\n\nline one\n.dot line\n\nlast line\n") || rel.env.EnvID != "env+id" {
		t.Errorf("released %+v\n%s", rel.env, rel.data)
	}
	if _, to, err := r.Release(ctl, b, []string{"pm@example.test"}, "X-R", "1"); err != nil || len(to) != 1 || to[0] != "pm@example.test" {
		t.Errorf("Release --to = %v, %v", to, err)
	}
}

// TestSpoolReportDownstreamDown: a report the downstream cannot take
// stays in the spool, held like any message, and goes out once it can.
func TestSpoolReportDownstreamDown(t *testing.T) {
	e, opt, f := spoolEnv(t)
	e.enqueueSpool("Subject: x\n\ninfected\n")
	opt.Checker = crashPolicy(true)
	opt.Notifier = &fakeNotifier{}
	f.answer = func(n int, m reinject.Message) (*reinject.Result, error) {
		if n == 0 {
			return nil, &reinject.TempError{Stage: "connect"}
		}
		return nil, nil
	}
	p := e.pipeline(opt, infectSome)
	if st, err := p.RunBatch(ctx); err != nil || st.Quarantined != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if st, err := p.RunBatch(ctx); err != nil || st.Held != 1 || len(f.sent()) != 0 {
		t.Fatalf("second batch = %+v, %v, sent %d; want the report held", st, err, len(f.sent()))
	}
	if len(names(t, e.in)) != 1 {
		t.Fatalf("spool = %v, want the report kept", names(t, e.in))
	}
	e.advance(opt.RetryMax)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("third batch = %+v, %v", st, err)
	}
	got := f.sent()
	if len(got) != 1 || got[0].env.Recipients[0].Addr != "postmaster@example.test" || got[0].env.Sender != "" {
		t.Fatalf("sent %+v", got)
	}
	// As written: no header of qscan's verdict added.
	if strings.Contains(got[0].data, "QScan") || !strings.HasPrefix(got[0].data, "Subject: Warning: E-mail viruses detected\n") {
		t.Errorf("report changed on its way out:\n%s", got[0].data)
	}
	if left := names(t, e.in); len(left) != 0 {
		t.Errorf("spool keeps %v", left)
	}
}

// TestSpoolReportCrash: a kill at each step of a batch with a report (the
// message quarantined whole, settled by the prepare record, or cleaned and
// sent), then recovery and a drain: the report goes out exactly once
// (staged before the prepare record, so a kill before it leaves temporary
// files the spool's clean-up removes and the message is checked again).
func TestSpoolReportCrash(t *testing.T) {
	for _, whole := range []bool{true, false} {
		for _, step := range []string{"staged", "prepared", "sent"} {
			t.Run(fmt.Sprintf("whole=%v/%s", whole, step), func(t *testing.T) {
				e, opt, f := spoolEnv(t)
				e.enqueueSpool("Subject: x\n\ninfected\n")
				opt.Checker = crashPolicy(whole)
				opt.Notifier = &fakeNotifier{}
				p1 := e.pipeline(opt, infectSome)
				p1.failpoint = func(s string) {
					if s == step {
						panic(crash{s})
					}
				}
				runUntilCrash(t, p1)
				// The daemon's start: recovery, then the front end's
				// clean-up of the spool before it listens.
				p2 := e.pipeline(opt, infectSome)
				if _, err := (spool.Spool{Dir: e.in}).Clean(time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				if _, err := p2.Drain(ctx); err != nil {
					t.Fatal(err)
				}
				reports, msgs := 0, 0
				for _, m := range f.sent() {
					if m.env.Sender == "" {
						reports++
					} else {
						msgs++
					}
				}
				if want := map[bool]int{true: 0, false: 1}[whole]; reports != 1 || msgs != want {
					t.Errorf("sent %d reports and %d messages, want 1 and %d", reports, msgs, want)
				}
				if left := names(t, e.in); len(left) != 0 {
					t.Errorf("spool keeps %v", left)
				}
			})
		}
	}
}

// TestSpoolCrash: a kill at each step of a re-injected batch, then
// start-up recovery and a drain: nothing is lost; a message recorded sent
// is released without being sent again; the one duplicate window (killed
// between the downstream's 250 and the sent record) sends it twice.
func TestSpoolCrash(t *testing.T) {
	for _, c := range []struct {
		step string
		dups int
	}{{"staged", 0}, {"prepared", 0}, {"accepted", 1}, {"recorded", 0}, {"sent", 0}} {
		t.Run(c.step, func(t *testing.T) {
			e, opt, f := spoolEnv(t)
			opt.ReinjectParallel = 1
			ids := []string{e.enqueueSpool("Subject: 1\n\none\n"), e.enqueueSpool("Subject: 2\n\ntwo\n"), e.enqueueSpool("Subject: 3\n\nthree\n")}
			p1 := e.pipeline(opt)
			once := false
			p1.failpoint = func(s string) {
				if s == c.step && !once {
					once = true
					panic(crash{s})
				}
			}
			runUntilCrash(t, p1)
			p2 := e.pipeline(opt)
			if _, err := p2.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			if left := names(t, e.in); len(left) != 0 {
				t.Errorf("spool keeps %v", left)
			}
			count := map[string]int{}
			for _, m := range f.sent() {
				count[m.data[:strings.Index(m.data, "\n")]]++
			}
			dups := 0
			for i := range ids {
				n := count[fmt.Sprintf("Subject: %d", i+1)]
				if n == 0 {
					t.Errorf("message %d lost", i+1)
				}
				dups += n - 1
			}
			if dups != c.dups {
				t.Errorf("duplicates = %d, want %d (%v)", dups, c.dups, count)
			}
		})
	}
}

// TestSpoolHeader: the header block is read from the message up to the empty
// line; a header over the limit is refused, one at the limit is read.
func TestSpoolHeader(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		data, hdr string
		off       int64
		limit     int
		err       bool
	}{
		{"A: 1\nB: 2\n\nbody\n", "A: 1\nB: 2\n", 11, 100, false},
		{"\nbody\n", "", 1, 100, false},
		{"A: 1\n", "A: 1\n", 5, 100, false},
		{"A: 1", "A: 1\n", 4, 100, false},
		{"", "", 0, 100, false},
		{"A: 1\nB: 2\n\nbody\n", "A: 1\nB: 2\n", 11, 10, false},
		{"A: 1\nB: 2\n\nbody\n", "", 0, 9, true},
		{"A: 1\nB: 22\n", "", 0, 10, true},
		{strings.Repeat("X: y\n", 20000) + "\nb", strings.Repeat("X: y\n", 20000), 100001, 100000, false},
	} {
		p := filepath.Join(dir, "mf")
		os.WriteFile(p, []byte(c.data), 0o600)
		fh, _ := os.Open(p)
		hdr, off, err := readSpoolHeader(fh, 0, c.limit)
		fh.Close()
		if (err != nil) != c.err || err == nil && (string(hdr) != c.hdr || off != c.off) {
			t.Errorf("%.30q limit %d: %q, %d, %v; want %q, %d, err %v", c.data, c.limit, hdr, off, err, c.hdr, c.off, c.err)
		}
		// The same message after an envelope (a one-file entry): the
		// same header, the offset from where the message starts.
		head := "qscan-spool 2\nend\n"
		os.WriteFile(p, []byte(head+c.data), 0o600)
		fh, _ = os.Open(p)
		hdr2, off2, err2 := readSpoolHeader(fh, int64(len(head)), c.limit)
		fh.Close()
		if (err2 != nil) != (err != nil) || string(hdr2) != string(hdr) || off2 != off {
			t.Errorf("%.30q after an envelope: %q, %d, %v; want %q, %d, %v", c.data, hdr2, off2, err2, hdr, off, err)
		}
	}
}

// FuzzSpoolHeader: whatever the message holds, the header and the body rejoin
// to the message (an empty line between them, as the pipeline reads it).
func FuzzSpoolHeader(f *testing.F) {
	f.Add([]byte("A: 1\n\nbody\n"))
	f.Add([]byte("\n\n\n"))
	f.Add([]byte("A"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "mf")
		os.WriteFile(p, data, 0o600)
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		hdr, off, err := readSpoolHeader(fh, 0, 64)
		if err != nil {
			if len(data) <= 64 {
				t.Fatalf("%q: %v", data, err)
			}
			return
		}
		if off > int64(len(data)) || len(hdr) > 65 { // a last line without its LF gets one
			t.Fatalf("%q: header %q offset %d", data, hdr, off)
		}
		if bytes.Contains(hdr, []byte("\n\n")) || len(hdr) > 0 && hdr[0] == '\n' {
			t.Fatalf("%q: header %q holds an empty line", data, hdr)
		}
		if int(off) < len(data) && !bytes.Equal(data[:off], append(bytes.Clone(hdr), '\n')) {
			t.Fatalf("%q: header %q offset %d", data, hdr, off)
		}
	})
}

// TestSpoolReportOfHeldMessage: a cleaned message the downstream defers
// (451) is kept and checked again later; the report about it is not sent
// until the message is, so the postmaster gets one report, not one per
// attempt.
func TestSpoolReportOfHeldMessage(t *testing.T) {
	e, opt, f := spoolEnv(t)
	e.enqueueSpool("Subject: x\n\ninfected\n")
	opt.Checker = crashPolicy(false)
	opt.Notifier = &fakeNotifier{}
	f.answer = func(n int, m reinject.Message) (*reinject.Result, error) {
		if n == 0 {
			return nil, &reinject.TempError{Stage: "MAIL", Reply: reinject.Reply{Code: 451, Text: "later"}}
		}
		return nil, nil
	}
	p := e.pipeline(opt, infectSome)
	if st, err := p.RunBatch(ctx); err != nil || st.Held != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if n := len(names(t, e.in)); n != 1 {
		t.Fatalf("spool = %v, want the message only (no report yet)", names(t, e.in))
	}
	e.advance(opt.RetryMax)
	if _, err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	reports := 0
	for _, m := range f.sent() {
		if m.env.Sender == "" {
			reports++
		}
	}
	if reports != 1 || len(f.sent()) != 2 {
		t.Errorf("sent %d messages of which %d reports, want the message and one report", len(f.sent()), reports)
	}
	if left := names(t, e.in); len(left) != 0 {
		t.Errorf("spool keeps %v", left)
	}
}
