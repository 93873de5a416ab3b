package pipeline

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

// countingSink passes records on to a store (nil: fails) and counts calls.
type countingSink struct {
	st    *store.Store
	calls [][]store.LogRecord
}

func (c *countingSink) AppendLog(ctx context.Context, recs []store.LogRecord) error {
	c.calls = append(c.calls, recs)
	if c.st == nil {
		return errors.New("database is down")
	}
	return c.st.AppendLog(ctx, recs)
}

func (e *env) enqueueSubject(id, subject string, rcpts ...string) {
	e.t.Helper()
	hdr := "From: a@example.org\nTo: b@example.test\nSubject: " + subject + "\n"
	qf, err := sendmail.NewQf("a@example.org", rcpts, []byte(hdr), sendmail.NewOpts{Time: e.now(),
		ClientIP: netip.MustParseAddr("192.0.2.1"), ClientHost: "client.example", Helo: "helo.example", Protocol: "ESMTP", BodySize: 5})
	if err != nil {
		e.t.Fatal(err)
	}
	e.writeRaw(id, qf.Bytes(), []byte("body\n"), 0)
}

// TestMessageLogRecords: one AppendLog per batch, with a record per
// message holding what the log line says and more.
func TestMessageLogRecords(t *testing.T) {
	e := newEnv(t)
	e.enqueueSubject("6AM876nc000080", "=?utf-8?q?Caf=C3=A9_=E2=82=AC?=", "b@example.test", "c@example.test")
	e.enqueueSubject("6AM876nc000081", "plain\x1b[31m", "d@example.test")
	opt := e.options()
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	sink := &countingSink{st: e.st}
	opt.LogSink, opt.Host = sink, "mx7"
	timed := stageFunc{"virus", func(ctx context.Context, m *message.Message) error {
		if m.ID == "6AM876nc000080" {
			return infect.f(ctx, m)
		}
		return nil
	}}
	p := e.pipeline(opt, timed)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 2 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if len(sink.calls) != 1 || len(sink.calls[0]) != 2 {
		t.Fatalf("AppendLog calls = %d (of %v records), want one of 2", len(sink.calls), sink.calls)
	}
	recs, err := e.st.SearchLog(ctx, store.LogQuery{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("SearchLog = %v, %v", recs, err)
	}
	byID := map[string]store.LogRecord{recs[0].QueueID: recs[0], recs[1].QueueID: recs[1]}
	v, c := byID["6AM876nc000080"], byID["6AM876nc000081"]
	if v.Subject != "Café €" || c.Subject != "plain [31m" {
		t.Errorf("subjects %q, %q; want the decoded one and the escape as a space", v.Subject, c.Subject)
	}
	if v.Host != "mx7" || v.Sender != "a@example.org" || !slices.Equal(v.Recipients, []string{"b@example.test", "c@example.test"}) ||
		v.ClientIP != "192.0.2.1" || v.Helo != "helo.example" || v.OutID != "6AM876nc000080" || !v.Time.Equal(e.now()) {
		t.Errorf("envelope of the record: %+v", v)
	}
	if v.Verdict != "infected" || !slices.Equal(v.Viruses, []string{"Eicar-Test-Signature"}) || !slices.Contains(v.Actions, "cleaned") {
		t.Errorf("verdict %s, viruses %v, actions %v; want infected, Eicar, cleaned", v.Verdict, v.Viruses, v.Actions)
	}
	if len(v.Reports) != 1 || !v.Reports[0].Removed || v.Reports[0].Part != "eicar.com" || v.Reports[0].Kind != "virus" {
		t.Errorf("reports %+v, want the virus in eicar.com, removed", v.Reports)
	}
	if !strings.HasPrefix(v.Quarantine, "20261122/6AM876nc000080") {
		t.Errorf("quarantine reference %q, want 20261122/6AM876nc000080", v.Quarantine)
	}
	if _, ok := v.StageMS["virus"]; !ok {
		t.Errorf("stage times %v, want virus", v.StageMS)
	}
	if c.Verdict != "clean" || !slices.Equal(c.Actions, []string{"delivered"}) || c.Quarantine != "" {
		t.Errorf("clean record: %+v", c)
	}
}

// TestMessageLogFailureKeepsMail: a log that cannot be written costs the
// records, not the mail.
func TestMessageLogFailureKeepsMail(t *testing.T) {
	e := newEnv(t)
	var logged bytes.Buffer
	e.log.SetOutput(&logged)
	e.enqueueSubject("6AM876nc000090", "one", "b@example.test")
	e.enqueueSubject("6AM876nc000091", "two", "b@example.test")
	opt := e.options()
	sink := &countingSink{}
	opt.LogSink = sink
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 2 || st.Held != 0 {
		t.Fatalf("RunBatch = %+v, %v; want 2 delivered", st, err)
	}
	if got := names(t, e.out); !slices.Contains(got, "qf6AM876nc000090") || !slices.Contains(got, "qf6AM876nc000091") {
		t.Errorf("outgoing = %v, want both messages", got)
	}
	if got := names(t, e.in); len(got) != 0 {
		t.Errorf("incoming = %v, want empty", got)
	}
	if len(sink.calls) != 1 || !strings.Contains(logged.String(), "cannot write the message log") {
		t.Errorf("%d calls, log:\n%s\nwant one call and the error logged", len(sink.calls), logged.String())
	}
}

// TestMessageLogQuarantinedWhole: a poison message's record says so.
func TestMessageLogQuarantinedWhole(t *testing.T) {
	e := newEnv(t)
	e.enqueueSubject("6AM876nc000095", "poison", "b@example.test")
	opt := e.options()
	opt.LogSink = e.st
	p := e.pipeline(opt, stageFunc{"explode", func(context.Context, *message.Message) error { panic("bad input") }})
	for range 4 {
		p.RunBatch(ctx)
		e.advance(5 * time.Minute)
	}
	recs, err := e.st.SearchLog(ctx, store.LogQuery{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("SearchLog = %+v, %v; want one record (held attempts are not finished)", recs, err)
	}
	r := recs[0]
	if r.Verdict != "poison" || !slices.Equal(r.Actions, []string{"quarantined"}) || r.Quarantine != filepath.Join("20261122", "6AM876nc000095") ||
		!strings.Contains(r.Extra["reason"], "3 attempts") || r.Subject != "poison" {
		t.Errorf("record %+v", r)
	}
}
