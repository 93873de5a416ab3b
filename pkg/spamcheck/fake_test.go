package spamcheck

import (
	"context"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// fakeSpamd answers Report with answer and remembers what it was sent.
type fakeSpamd struct {
	mu     sync.Mutex
	calls  int
	sent   [][]byte
	answer func(msg []byte) (*spamd.Result, error)
}

func (f *fakeSpamd) Report(_ context.Context, r io.Reader) (*spamd.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls++
	f.sent = append(f.sent, b)
	f.mu.Unlock()
	return f.answer(b)
}

func (f *fakeSpamd) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// spamdScore answers every message with score and rules.
func spamdScore(score float64, rules ...spamd.Rule) *fakeSpamd {
	return &fakeSpamd{answer: func([]byte) (*spamd.Result, error) {
		return &spamd.Result{Score: score, Required: 5, IsSpam: score >= 5, Rules: rules}, nil
	}}
}

// spamdFailing answers every message with err.
func spamdFailing(err error) *fakeSpamd {
	return &fakeSpamd{answer: func([]byte) (*spamd.Result, error) { return nil, err }}
}

type fakeRspamd struct {
	mu     sync.Mutex
	calls  int
	reqs   []rspamd.Request
	answer func(msg []byte) (*rspamd.Result, error)
}

func (f *fakeRspamd) Check(_ context.Context, req rspamd.Request, r io.Reader) (*rspamd.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls++
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.answer(b)
}

func rspamdScore(score float64, syms ...rspamd.Symbol) *fakeRspamd {
	return &fakeRspamd{answer: func([]byte) (*rspamd.Result, error) {
		return &rspamd.Result{Score: score, Required: 15, Action: "no action", Symbols: syms}, nil
	}}
}

// fakeLists answers every query with a copy of res.
type fakeLists struct {
	mu      sync.Mutex
	queries []dnsbl.Query
	res     dnsbl.Result
}

func (f *fakeLists) Check(_ context.Context, q dnsbl.Query) *dnsbl.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	r := f.res
	return &r
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a stage under test with its log hook and clock.
type fixture struct {
	*Stage
	hook  *logtest.Hook
	clock *clock
}

// newFixture builds a stage; engines must match opts.Spam.Engines, which
// defaults to the engines given.
func newFixture(t testing.TB, opts Options, e Engines) *fixture {
	t.Helper()
	if opts.Spam.RequiredScore == 0 {
		eng := opts.Spam.Engines
		opts.Spam = spam.DefaultOptions()
		opts.Spam.Engines = eng
	}
	if opts.Spam.Engines == nil {
		opts.Spam.Engines = []string{}
		if e.Spamd != nil {
			opts.Spam.Engines = append(opts.Spam.Engines, spam.EngineSpamd)
		}
		if e.Rspamd != nil {
			opts.Spam.Engines = append(opts.Spam.Engines, spam.EngineRspamd)
		}
		if e.DNSBL != nil {
			opts.Spam.Engines = append(opts.Spam.Engines, spam.EngineDNSBL)
		}
	}
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	c := newClock()
	s, err := New(opts, e, log, c.now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{Stage: s, hook: hook, clock: c}
}

// check runs the stage on m and fails the test on an error.
func (f *fixture) check(t *testing.T, m *message.Message) *message.SpamResult {
	t.Helper()
	if err := f.Check(context.Background(), m); err != nil {
		t.Fatalf("Check(%s) = %v", m.ID, err)
	}
	if m.Spam == nil {
		t.Fatalf("Check(%s) left Spam nil", m.ID)
	}
	return m.Spam
}

// logged returns the messages logged at level or above.
func (f *fixture) logged(level logrus.Level) []string {
	var out []string
	for _, e := range f.hook.AllEntries() {
		if e.Level <= level {
			out = append(out, e.Message)
		}
	}
	return out
}

func testMessage(id, body string) *message.Message {
	return &message.Message{
		ID: id,
		Envelope: message.Envelope{
			Sender:     "alice@sender.example",
			Recipients: []string{"bob@example.test"},
			ClientIP:   netip.MustParseAddr("192.0.2.7"),
			Helo:       "mail.sender.example",
		},
		Header: []byte("From: alice@sender.example\nTo: bob@example.test\nSubject: lunch\n"),
		Body:   []byte(body),
	}
}
