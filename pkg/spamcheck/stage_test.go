package spamcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		score float64
		want  message.SpamLevel
	}{
		{-1.5, "ham"},
		{1.2, "ham"},
		{5, "spam"},
		{7.3, "spam"},
		{10, "high"},
		{1000, "high"},
	}
	for _, tt := range tests {
		sd := spamdScore(tt.score, spamd.Rule{Name: "RULE_A", Score: tt.score})
		f := newFixture(t, Options{}, Engines{Spamd: sd})
		got := f.check(t, testMessage("id1", "hello\n"))
		want := &message.SpamResult{Level: tt.want, Score: tt.score, Required: 5,
			Rules: []message.SpamRule{{Name: "RULE_A", Score: tt.score}}, Engines: []string{NameSpamAssassin}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("score %v: Spam = %+v, want %+v", tt.score, got, want)
		}
	}
}

func TestWhitelistSkipsEngines(t *testing.T) {
	sd, rs, dl := spamdScore(20), rspamdScore(20), &fakeLists{}
	opts := Options{Spam: spam.DefaultOptions()}
	opts.Spam.Engines = []string{"spamd", "rspamd", "dnsbl"}
	opts.Spam.Whitelist = []string{"*@sender.example"}
	f := newFixture(t, opts, Engines{Spamd: sd, Rspamd: rs, DNSBL: dl})
	got := f.check(t, testMessage("id1", "hello\n"))
	want := &message.SpamResult{Level: "ham", Required: 5, Whitelisted: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Spam = %+v, want %+v", got, want)
	}
	if sd.count() != 0 || rs.calls != 0 || len(dl.queries) != 0 {
		t.Errorf("engines called %d, %d, %d times for a whitelisted sender, want 0", sd.count(), rs.calls, len(dl.queries))
	}
}

func TestBlacklist(t *testing.T) {
	for _, high := range []bool{false, true} {
		sd := spamdScore(0)
		opts := Options{Spam: spam.DefaultOptions()}
		opts.Spam.Blacklist = []string{"192.0.2.0/24"}
		opts.Spam.BlacklistHigh = high
		f := newFixture(t, opts, Engines{Spamd: sd})
		got := f.check(t, testMessage("id1", "hello\n"))
		want := &message.SpamResult{Level: "spam", Required: 5, Blacklisted: true}
		if high {
			want.Level = "high"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("BlacklistHigh %v: Spam = %+v, want %+v", high, got, want)
		}
		if sd.count() != 0 {
			t.Errorf("spamd called %d times for a blacklisted client", sd.count())
		}
	}
}

func TestCache(t *testing.T) {
	sd, rs := spamdScore(7, spamd.Rule{Name: "X", Score: 7}), rspamdScore(3)
	f := newFixture(t, Options{}, Engines{Spamd: sd, Rspamd: rs})
	a, b := testMessage("copy1", "same body\n"), testMessage("copy2", "same body\n")
	b.Envelope.Recipients = []string{"carol@example.test"} // split per recipient: same verdict
	first, second := f.check(t, a), f.check(t, b)
	if sd.count() != 1 || rs.calls != 1 {
		t.Errorf("engines called %d and %d times for two identical messages, want 1 and 1", sd.count(), rs.calls)
	}
	if first.Cached || !second.Cached {
		t.Errorf("Cached = %v, %v; want false, true", first.Cached, second.Cached)
	}
	second.Cached = false
	if !reflect.DeepEqual(first, second) {
		t.Errorf("cached result %+v differs from %+v", second, first)
	}
	f.check(t, testMessage("other", "another body\n"))
	if sd.count() != 2 {
		t.Errorf("spamd called %d times after a different body, want 2", sd.count())
	}
	c := testMessage("otherip", "same body\n")
	c.Envelope.ClientIP = c.Envelope.ClientIP.Next()
	f.check(t, c)
	if sd.count() != 2 || rs.calls != 3 {
		t.Errorf("after a new client IP: spamd %d calls (want 2, bytes unchanged), rspamd %d (want 3)", sd.count(), rs.calls)
	}
	f.clock.advance(spam.DefaultCacheTTL + time.Second)
	f.check(t, testMessage("later", "same body\n"))
	if sd.count() != 3 {
		t.Errorf("spamd called %d times after the cache TTL, want 3", sd.count())
	}
}

func TestEngineDown(t *testing.T) {
	refused := fmt.Errorf("spamd REPORT 127.0.0.1:783: dial tcp 127.0.0.1:783: connect: connection refused")
	t.Run("deliver", func(t *testing.T) {
		f := newFixture(t, Options{}, Engines{Spamd: spamdFailing(refused)})
		got := f.check(t, testMessage("id1", "hello\n"))
		want := &message.SpamResult{Level: "ham", Required: 5, Unchecked: refused.Error()}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Spam = %+v, want %+v", got, want)
		}
	})
	t.Run("hold", func(t *testing.T) {
		f := newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: spamdFailing(refused)})
		m := testMessage("id1", "hello\n")
		err := f.Check(context.Background(), m)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Check = %v, want ErrUnavailable with the cause", err)
		}
		if m.Spam != nil {
			t.Errorf("held message got Spam = %+v", m.Spam)
		}
	})
	t.Run("permanent never holds", func(t *testing.T) {
		bad := fmt.Errorf("spamd REPORT x: %w", &spamd.ExitError{Code: spamd.ExDataErr, Message: "bad message"})
		f := newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: spamdFailing(bad)})
		got := f.check(t, testMessage("id1", "hello\n"))
		if got.Unchecked == "" || got.Level != "ham" {
			t.Errorf("Spam = %+v, want unchecked ham", got)
		}
		if st := f.Health()["spamd"]; !st.Up {
			t.Errorf("engine that refused one message is down: %+v", st)
		}
	})
}

func TestTimeoutsPause(t *testing.T) {
	timeout := fmt.Errorf("spamd REPORT x: %w", context.DeadlineExceeded)
	failing := true
	sd := &fakeSpamd{answer: func([]byte) (*spamd.Result, error) {
		if failing {
			return nil, timeout
		}
		return &spamd.Result{Score: 1}, nil
	}}
	opts := Options{Spam: spam.DefaultOptions()}
	opts.Spam.MaxTimeouts, opts.Spam.Pause = 3, 5*time.Minute
	f := newFixture(t, opts, Engines{Spamd: sd})
	for i := range 6 {
		got := f.check(t, testMessage(fmt.Sprint("m", i), fmt.Sprint("body ", i, "\n")))
		if got.Unchecked == "" {
			t.Fatalf("message %d: Unchecked empty with spamd timing out", i)
		}
		if i >= 3 && !strings.Contains(got.Unchecked, "paused") {
			t.Errorf("message %d: Unchecked = %q, want paused", i, got.Unchecked)
		}
	}
	if sd.count() != 3 {
		t.Errorf("spamd asked %d times, want 3 (paused after 3 timeouts)", sd.count())
	}
	warn := f.logged(logrus.WarnLevel)
	if len(warn) != 2 || !strings.Contains(warn[0], "is down") || !strings.Contains(warn[1], "paused until") {
		t.Errorf("warnings = %q, want one 'down' and one 'paused'", warn)
	}
	st := f.Health()["spamd"]
	if st.Up || !st.Paused || !st.Since.Equal(f.clock.now()) || !strings.Contains(st.LastError, "deadline") {
		t.Errorf("Health = %+v, want down and paused since now", st)
	}
	f.clock.advance(5*time.Minute + time.Second)
	failing = false
	if got := f.check(t, testMessage("back", "back\n")); got.Unchecked != "" {
		t.Errorf("after the pause: Unchecked = %q", got.Unchecked)
	}
	if st := f.Health()["spamd"]; !st.Up || st.Paused {
		t.Errorf("Health after recovery = %+v, want up", st)
	}
	info := f.logged(logrus.InfoLevel)
	if len(info) != 4 || !strings.Contains(info[2], "pause over") || !strings.Contains(info[3], "answers again") {
		t.Errorf("log = %q, want down, paused, pause over, answers again", info)
	}
}

func TestPausedHolds(t *testing.T) {
	sd := spamdFailing(fmt.Errorf("spamd REPORT x: %w", context.DeadlineExceeded))
	opts := Options{Spam: spam.DefaultOptions(), HoldOnFailure: true}
	opts.Spam.MaxTimeouts = 1
	f := newFixture(t, opts, Engines{Spamd: sd})
	for i, want := range []error{context.DeadlineExceeded, ErrPaused} {
		err := f.Check(context.Background(), testMessage("id", fmt.Sprint(i, "\n")))
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, want) {
			t.Errorf("message %d: Check = %v, want ErrUnavailable and %v", i, err, want)
		}
	}
	if sd.count() != 1 {
		t.Errorf("spamd asked %d times, want 1 (paused after the first timeout)", sd.count())
	}
}

func TestCombined(t *testing.T) {
	sd := spamdScore(3, spamd.Rule{Name: "BAYES_50", Score: 0.8}, spamd.Rule{Name: "HTML_MESSAGE", Score: 2.2})
	rs := rspamdScore(8, rspamd.Symbol{Name: "R_SPF_FAIL", Score: 8})
	f := newFixture(t, Options{}, Engines{Spamd: sd, Rspamd: rs})
	got := f.check(t, testMessage("id1", "hello\n"))
	want := &message.SpamResult{Level: "ham", Score: 3, Required: 5,
		Rules:   []message.SpamRule{{Name: "BAYES_50", Score: 0.8}, {Name: "HTML_MESSAGE", Score: 2.2}, {Name: "R_SPF_FAIL", Score: 8}},
		Engines: []string{NameSpamAssassin, NameRspamd}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("both engines: Spam = %+v, want %+v (spamd's score)", got, want)
	}
	req := rs.reqs[0]
	if req.QueueID != "id1" || req.From != "alice@sender.example" || req.Helo != "mail.sender.example" || req.IP.String() != "192.0.2.7" {
		t.Errorf("rspamd request = %+v", req)
	}

	down := errors.New("spamd REPORT x: connection refused")
	f = newFixture(t, Options{}, Engines{Spamd: spamdFailing(down), Rspamd: rs})
	got = f.check(t, testMessage("id2", "hello\n"))
	if got.Level != "spam" || got.Score != 8 || got.Unchecked != down.Error() || !reflect.DeepEqual(got.Engines, []string{NameRspamd}) {
		t.Errorf("spamd down: Spam = %+v, want rspamd's spam verdict with spamd unchecked", got)
	}
	f = newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: spamdFailing(down), Rspamd: rs})
	if err := f.Check(context.Background(), testMessage("id3", "hello\n")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("spamd down with hold_on_failure: Check = %v, want ErrUnavailable", err)
	}
}

func TestDNSBL(t *testing.T) {
	dl := &fakeLists{res: dnsbl.Result{Hits: []dnsbl.Hit{{List: "SBL"}}}}
	f := newFixture(t, Options{}, Engines{Spamd: spamdScore(0.5), DNSBL: dl})
	m := testMessage("id1", "hello\n")
	m.Envelope.Auth = true
	got := f.check(t, m)
	want := &message.SpamResult{Level: "spam", Score: 0.5, Required: 5,
		Rules: []message.SpamRule{{Name: "SBL"}}, Engines: []string{NameSpamAssassin, NameDNSBL}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list hit: Spam = %+v, want %+v", got, want)
	}
	q := dl.queries[0]
	if q.IP != m.Envelope.ClientIP || q.Sender != m.Envelope.Sender || !q.Authenticated {
		t.Errorf("query = %+v", q)
	}
	// A list that times out never holds the message, even with
	// hold_on_failure: the lists are an extra.
	dl = &fakeLists{res: dnsbl.Result{TimedOut: []string{"SBL"}}}
	f = newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: spamdScore(0.5), DNSBL: dl})
	got = f.check(t, testMessage("id2", "hello\n"))
	if got.Level != "ham" || !strings.HasPrefix(got.Unchecked, "dnsbl: SBL timed out") {
		t.Errorf("list timeout: Spam = %+v, want ham with dnsbl unchecked", got)
	}
}

func TestPanicInEngine(t *testing.T) {
	sd := &fakeSpamd{answer: func([]byte) (*spamd.Result, error) { panic("boom") }}
	f := newFixture(t, Options{}, Engines{Spamd: sd, Rspamd: rspamdScore(6)})
	got := f.check(t, testMessage("id1", "hello\n"))
	if got.Level != "spam" || !strings.Contains(got.Unchecked, "panic: boom") {
		t.Errorf("Spam = %+v, want rspamd's verdict and the panic noted", got)
	}
}

func TestContextEnded(t *testing.T) {
	sd := &fakeSpamd{}
	sd.answer = func([]byte) (*spamd.Result, error) { return nil, context.Canceled }
	f := newFixture(t, Options{}, Engines{Spamd: sd})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Check(ctx, testMessage("id1", "x\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context = %v", err)
	}
	if st := f.Health()["spamd"]; !st.Up {
		t.Errorf("a cancelled message took the engine down: %+v", st)
	}
}

func TestNewErrors(t *testing.T) {
	log := logrus.New()
	var nilClient *spamd.Client
	tests := []struct {
		name    string
		engines []string
		e       Engines
		want    string
	}{
		{"listed, no client", []string{"spamd"}, Engines{}, "spamd: listed in engines but no client"},
		{"typed nil", []string{"spamd"}, Engines{Spamd: nilClient}, "no client given"},
		{"not listed", []string{"spamd"}, Engines{Spamd: spamdScore(0), Rspamd: rspamdScore(0)}, "rspamd: client given but not listed"},
		{"none", []string{}, Engines{}, "no engine configured"},
	}
	for _, tt := range tests {
		opts := Options{Spam: spam.DefaultOptions()}
		opts.Spam.Engines = tt.engines
		_, err := New(opts, tt.e, log, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
	opts := Options{Spam: spam.DefaultOptions()}
	opts.Spam.RequiredScore = -1
	if _, err := New(opts, Engines{Spamd: spamdScore(0)}, log, nil); err == nil {
		t.Error("New with a negative required score succeeded")
	}
}

func TestMessageHead(t *testing.T) {
	m := testMessage("id1", "line one\nline two\nline three\n")
	got := string(messageHead(m, 1000))
	want := "Return-Path: <alice@sender.example>\n" + string(m.Header) + "\n" + string(m.Body)
	if got != want {
		t.Errorf("messageHead = %q, want %q", got, want)
	}
	full := len(want)
	if got := string(messageHead(m, int64(full-3))); got != want[:full-len("line three\n")] {
		t.Errorf("messageHead cut = %q, want cut after \"line two\\n\"", got)
	}
	m.Header = []byte("Return-Path: <x@y.example>\r\nSubject: s\r\n")
	m.Body = []byte("b\r\n")
	if got, want := string(messageHead(m, 1000)), "Return-Path: <x@y.example>\r\nSubject: s\r\n\r\nb\r\n"; got != want {
		t.Errorf("messageHead with a Return-Path = %q, want %q", got, want)
	}
	m.Envelope.Sender = "evil\n@x.example"
	m.Header = []byte("Subject: s\n")
	if got := string(messageHead(m, 1000)); strings.Contains(got, "Return-Path") {
		t.Errorf("unsafe sender went into a Return-Path: %q", got)
	}
}

func TestStageSendsHead(t *testing.T) {
	sd := spamdScore(0)
	f := newFixture(t, Options{MaxSize: 200}, Engines{Spamd: sd})
	m := testMessage("id1", strings.Repeat("0123456789abcdef\n", 100))
	f.check(t, m)
	if n := len(sd.sent[0]); n > 200 || n < 150 || !strings.HasSuffix(string(sd.sent[0]), "\n") {
		t.Errorf("spamd got %d bytes, want the head of the message cut at a line within 200", n)
	}
	m2 := testMessage("id2", strings.Repeat("0123456789abcdef\n", 100)+"different tail\n")
	f.check(t, m2)
	if sd.count() != 1 {
		t.Errorf("messages with the same head: spamd called %d times, want 1 (the key is the bytes sent)", sd.count())
	}
}

// TestDefinitely: "definitely not spam" and "definitely spam" (values or
// rulesets, as predicates) decide before the lists and the engines.
func TestDefinitely(t *testing.T) {
	for _, tc := range []struct {
		notSpam, isSpam, high bool
		want                  *message.SpamResult
	}{
		{notSpam: true, isSpam: true, want: &message.SpamResult{Level: "ham", Whitelisted: true}},
		{isSpam: true, want: &message.SpamResult{Level: "spam", Blacklisted: true}},
		{isSpam: true, high: true, want: &message.SpamResult{Level: "high", Blacklisted: true}},
	} {
		sd := spamdScore(1)
		opts := Options{Spam: spam.DefaultOptions()}
		opts.Spam.Engines, opts.Spam.BlacklistHigh = []string{"spamd"}, tc.high
		opts.DefinitelyNotSpam = func(*message.Message) bool { return tc.notSpam }
		opts.DefinitelySpam = func(*message.Message) bool { return tc.isSpam }
		f := newFixture(t, opts, Engines{Spamd: sd})
		if got := f.check(t, testMessage("id1", "hello\n")); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("not spam %v, spam %v, high %v: Spam = %+v, want %+v", tc.notSpam, tc.isSpam, tc.high, got, tc.want)
		}
		if sd.count() != 0 {
			t.Errorf("spamd asked %d times, want 0", sd.count())
		}
	}
}

// TestDownAndProbe: a spamd that fails is listed by Down (the SMTP
// filter answers 451 while it is, with hold_on_failure); Probe sends it a
// new message of its own each time (no cached verdict), leaves it down
// while it still fails, and sees it up once it answers.
func TestDownAndProbe(t *testing.T) {
	refused := fmt.Errorf("spamd REPORT 127.0.0.1:783: connection refused")
	failing := true
	sd := &fakeSpamd{answer: func([]byte) (*spamd.Result, error) {
		if failing {
			return nil, refused
		}
		return &spamd.Result{Score: 1, Required: 5}, nil
	}}
	f := newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: sd, Rspamd: rspamdScore(1)})
	if d := f.Down(); len(d) != 0 {
		t.Fatalf("Down = %v before any call", d)
	}
	f.Check(context.Background(), testMessage("id1", "hello\n"))
	if d := f.Down(); !reflect.DeepEqual(d, []string{"spamd"}) {
		t.Fatalf("Down = %v after spamd failed, want [spamd]", d)
	}
	f.Probe(context.Background())
	f.Probe(context.Background())
	if d := f.Down(); !reflect.DeepEqual(d, []string{"spamd"}) {
		t.Fatalf("Down = %v after failed probes", d)
	}
	failing = false
	f.Probe(context.Background())
	if d := f.Down(); len(d) != 0 {
		t.Errorf("Down = %v after spamd answered a probe", d)
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.calls != 4 || bytes.Equal(sd.sent[1], sd.sent[2]) || !bytes.Contains(sd.sent[1], []byte("qscan engine probe")) {
		t.Errorf("spamd got %d calls (want the message and 3 probes, each new)", sd.calls)
	}
}
