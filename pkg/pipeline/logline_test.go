package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/sendmail"
)

// outcomeKeys are on every message's outcome line.
var outcomeKeys = []string{"from", "to", "nrcpts", "size", "verdict", "virus", "spam", "action", "quarantined", "reason", "attempt", "ms"}

// outcomeLines returns the outcome lines logged, by queue ID.
func outcomeLines(t *testing.T, h *logtest.Hook) map[string][]*logrus.Entry {
	t.Helper()
	by := map[string][]*logrus.Entry{}
	for _, e := range h.AllEntries() {
		if _, ok := e.Data["action"]; !ok {
			continue
		}
		id, _, _ := strings.Cut(e.Message, " ")
		by[id] = append(by[id], e)
	}
	return by
}

// TestOutcomeLogLines: delivered, cleaned, held, quarantined whole,
// poison and set aside each get one line of the same shape (the same
// keys, in the text and in the fields), and quarantined=true exactly when
// a quarantine entry was written.
func TestOutcomeLogLines(t *testing.T) {
	e := newEnv(t)
	h := logtest.NewLocal(e.log)
	ids := map[string]string{"clean": "6AM876nc000101", "infect": "6AM876nc000102", "block": "6AM876nc000103",
		"down": "6AM876nc000104", "poison": "6AM876nc000105"}
	for body, id := range ids {
		e.enqueue(id, body+"\n", 0)
	}
	qf, _ := sendmail.NewQf("a@example.org", []string{"b@example.test"}, []byte("Subject: x\n"), sendmail.NewOpts{Time: e.now(), BodySize: 2})
	e.writeRaw("6AM876nc000106", qf.Bytes(), nil, 2*time.Minute) // no df: set aside
	opt := e.options()
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean"}
	}}
	p := e.pipeline(opt, stageFunc{"virus", func(ctx context.Context, m *message.Message) error {
		switch strings.TrimSpace(string(m.Body)) {
		case "infect":
			return infect.f(ctx, m)
		case "block":
			m.AddReport(message.Report{Kind: message.KindFilename, Part: -1, Text: "blocked whole", Action: message.ActionQuarantine})
		case "down":
			return errors.New("clamd: connection refused")
		case "poison":
			panic("bad input")
		}
		return nil
	}})
	for i := 0; i < 4; i++ {
		p.RunBatch(ctx)
		e.advance(5 * time.Minute)
	}
	lines := outcomeLines(t, h)
	want := map[string]struct {
		action, verdict string
		quarantined     bool
	}{
		ids["clean"]: {"delivered", "clean", false}, ids["infect"]: {"cleaned", "infected", true},
		ids["block"]: {"quarantined", "blocked", true}, ids["down"]: {"held", "", false},
		ids["poison"]: {"quarantined", "poison", true}, "6AM876nc000106": {"set-aside", "corrupt", true},
	}
	for id, w := range want {
		ls := lines[id]
		if len(ls) == 0 {
			t.Errorf("%s: no outcome line", id)
			continue
		}
		last := ls[len(ls)-1]
		if last.Data["action"] != w.action || last.Data["verdict"] != w.verdict || last.Data["quarantined"] != w.quarantined {
			t.Errorf("%s: action=%v verdict=%v quarantined=%v, want %s %q %t\n%s", id, last.Data["action"], last.Data["verdict"],
				last.Data["quarantined"], w.action, w.verdict, w.quarantined, last.Message)
		}
		if _, ok := last.Data["quarantine"]; ok != w.quarantined {
			t.Errorf("%s: quarantine dir logged %t, want %t: %s", id, ok, w.quarantined, last.Message)
		}
	}
	for id, ls := range lines {
		for _, l := range ls {
			for _, k := range outcomeKeys {
				if _, ok := l.Data[k]; !ok || !strings.Contains(l.Message, " "+k+"=") {
					t.Errorf("%s: line lacks %s: %s", id, k, l.Message)
				}
			}
			if q := fmt.Sprint(l.Data["quarantined"]); !strings.Contains(l.Message, " quarantined="+q+" ") {
				t.Errorf("%s: text and field disagree on quarantined=%s: %s", id, q, l.Message)
			}
			if l.Data["action"] == "held" && (l.Data["retry"] == nil || l.Data["error"] == nil) {
				t.Errorf("%s: held line without retry or error: %s", id, l.Message)
			}
		}
	}
	if ls := lines[ids["poison"]]; len(ls) < 2 || ls[0].Data["action"] != "held" {
		t.Errorf("poison message: want held lines before the quarantine, got %d lines", len(ls))
	}
}

// TestLogRecipientsCapped: the line names the first MaxLoggedRecipients
// recipients and how many more there are, with the total in nrcpts; a
// message with 100,000 recipients gets a short line.
func TestLogRecipientsCapped(t *testing.T) {
	e := newEnv(t)
	h := logtest.NewLocal(e.log)
	counts := map[string]int{"6AM876nc000110": 10, "6AM876nc000111": 11, "6AM876nc000112": 100000}
	for id, n := range counts {
		rcpts := make([]string, n)
		for i := range rcpts {
			rcpts[i] = fmt.Sprintf("u%d@example.test", i)
		}
		qf, err := sendmail.NewQf("a@example.org", rcpts, []byte("Subject: many\n"),
			sendmail.NewOpts{Time: e.now(), ClientIP: netip.MustParseAddr("192.0.2.1"), BodySize: 2})
		if err != nil {
			t.Fatal(err)
		}
		e.writeRaw(id, qf.Bytes(), []byte("x\n"), 0)
	}
	opt := e.options()
	opt.QfLimits.MaxQfBytes = 16 << 20 // 100,000 RPFD: lines
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 3 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	lines := outcomeLines(t, h)
	for id, n := range counts {
		if len(lines[id]) != 1 {
			t.Fatalf("%s: %d outcome lines, want 1", id, len(lines[id]))
		}
		l := lines[id][0]
		if l.Data["nrcpts"] != n {
			t.Errorf("%s: nrcpts = %v, want %d", id, l.Data["nrcpts"], n)
		}
		shown := min(n, MaxLoggedRecipients)
		if got := strings.Count(l.Message, "@example.test>"); got != shown {
			t.Errorf("%s: %d recipients shown, want %d: %s", id, got, shown, l.Message)
		}
		more := fmt.Sprintf(" and %d more", n-shown)
		if (n > shown) != strings.Contains(l.Message, more) || (n == shown && strings.Contains(l.Message, " more")) {
			t.Errorf("%s (%d recipients): line %q, want %q only over the cap", id, n, l.Message, more)
		}
		if len(l.Message) > 2048 {
			t.Errorf("%s: line of %d bytes for %d recipients", id, len(l.Message), n)
		}
	}
}
