package policy

import (
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// TestSettingsLevelsWithoutMutating: a message's spam result is leveled
// with its own thresholds in the settings (and the decision), and the
// message keeps the result the spam check gave.
func TestSettingsLevelsWithoutMutating(t *testing.T) {
	pm := NewPerMessage(Options{
		RequiredScore: ruleset.Setting{Plain: "3"}, HighScore: ruleset.Setting{Plain: "6"},
		SpamActions: ruleset.Setting{Plain: "store"}, HamActions: ruleset.Setting{Plain: "deliver"},
		Actions: map[string]message.SpamActions{"store": acts("store"), "deliver": acts("deliver")},
	})
	m := &message.Message{Spam: &message.SpamResult{Level: "ham", Score: 4, Required: 5, Engines: []string{"SpamAssassin"}}}
	s := pm.Settings(m)
	if s.Spam == nil || s.Spam.Level != "spam" || s.Spam.Required != 3 {
		t.Errorf("Settings(score 4, required 3).Spam = %+v, want level spam, required 3", s.Spam)
	}
	if m.Spam.Level != "ham" || m.Spam.Required != 5 {
		t.Errorf("Settings changed the message's spam result: %+v", m.Spam)
	}
	d := Decide(m, s)
	if d.Spam != s.Spam || d.Verdict != "spam" || !d.StoreSpam || d.Deliver {
		t.Errorf("Decide = verdict %s store %v deliver %v spam %+v, want spam, store, not delivered", d.Verdict, d.StoreSpam, d.Deliver, d.Spam)
	}
}

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		r    message.SpamResult
		want message.SpamLevel
	}{
		{message.SpamResult{Level: "spam", Score: 4, Engines: []string{"SpamAssassin"}}, "ham"},
		{message.SpamResult{Level: "ham", Score: 12, Engines: []string{"SpamAssassin"}}, "high"},
		{message.SpamResult{Level: "high", Score: 1, Engines: []string{"DNSBL"}}, "high"}, // a list hit stays
		{message.SpamResult{Level: "spam", Whitelisted: true}, "spam"},
		{message.SpamResult{Level: "ham", Score: 9, Unchecked: "spamd down"}, "ham"},
	} {
		r := tc.r
		if got := Level(&r, 5, 10); got.Level != tc.want || r.Level != tc.r.Level {
			t.Errorf("Level(%+v) = %s (input now %s), want %s", tc.r, got.Level, r.Level, tc.want)
		}
	}
}

func TestIsLocal(t *testing.T) {
	for _, tc := range []struct {
		sender string
		want   bool
	}{
		{"a@example.org", true}, {"a@mail.Example.ORG", true}, {"a@example.org.evil", false}, {"a@other.test", false}, {"", false},
	} {
		if got := isLocal(tc.sender, []string{"*.example.org"}); got != tc.want {
			t.Errorf("isLocal(%q) = %v, want %v", tc.sender, got, tc.want)
		}
	}
}

func TestPerMessageDeliverSilent(t *testing.T) {
	for _, v := range []string{"yes", "no"} {
		pm := NewPerMessage(Options{DeliverSilent: ruleset.Setting{Plain: v}})
		if got := pm.Settings(&message.Message{}).DeliverSilent; got != (v == "yes") {
			t.Errorf("deliver_silent %s: Settings.DeliverSilent = %v", v, got)
		}
	}
}
