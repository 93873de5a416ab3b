package pipeline

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/policy"
)

// spyNotifier records the notices it is asked to write.
type spyNotifier struct{ spam, sender []notify.Event }

func (s *spyNotifier) Postmaster([]notify.Event) ([]notify.Queued, error) { return nil, nil }
func (s *spyNotifier) Sender(n notify.Event) (*notify.Queued, error) {
	s.sender = append(s.sender, n)
	return nil, nil
}
func (s *spyNotifier) Spam(n notify.Event) ([]notify.Queued, error) {
	s.spam = append(s.spam, n)
	return nil, nil
}

// TestNoticeHidesForward: the spam actions "forward ADDR" (a spamtrap, an
// archive) and "bounce" together: the bounce to the (usually forged)
// sender and the notice to the recipients describe the message as it came
// in, never the forward address nor the edited header.
func TestNoticeHidesForward(t *testing.T) {
	for _, actions := range [][]string{
		{"forward trap@example.org", "bounce", "notify"},
		{"deliver", "forward trap@example.org", "bounce", "notify"},
	} {
		e := newEnv(t)
		e.enqueue("6AM876nc000095", "buy now\n", 0)
		opt := e.options()
		spy := &spyNotifier{}
		opt.Notifier = spy
		opt.Checker = CheckerOptions{Policy: func(*message.Message) policy.Settings {
			return policy.Settings{DeliverCleaned: true, SpamActions: acts(actions...), CleanValue: "clean"}
		}, SpamHeaders: func(*message.Message) ([]message.HeaderEdit, error) {
			return []message.HeaderEdit{{Op: message.HeaderReplace, Name: "Subject", Value: "{Spam?} 6AM876nc000095"}}, nil
		}}
		p := e.pipeline(opt, stageFunc{"spam", func(_ context.Context, m *message.Message) error {
			m.Spam = &message.SpamResult{Level: "spam", Score: 7, Required: 5}
			return nil
		}})
		if _, err := p.RunBatch(ctx); err != nil {
			t.Fatal(err)
		}
		if len(spy.spam) != 1 {
			t.Fatalf("%v: %d spam notices, want 1", actions, len(spy.spam))
		}
		n := spy.spam[0]
		if !n.Bounce || !n.NotifyRecipients {
			t.Errorf("%v: notice %+v, want bounce and notify", actions, n)
		}
		if want := []string{"b@example.test"}; !slices.Equal(n.Envelope.Recipients, want) {
			t.Errorf("%v: notice recipients = %v, want %v (the forward address must not leak)", actions, n.Envelope.Recipients, want)
		}
		if strings.Contains(string(n.Header), "trap@") || strings.Contains(n.Subject, "{Spam?}") {
			t.Errorf("%v: notice header is the edited one:\n%s", actions, n.Header)
		}
	}
}
