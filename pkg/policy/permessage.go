package policy

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// Default spam thresholds, when a threshold's ruleset gives no number.
const (
	DefaultRequiredScore = 5
	DefaultHighScore     = 10
)

// Values of X-<Org>-QScan that are not configurable.
const (
	InfectedValue  = "Found to be infected"
	NotCleanValue  = "Found to be not clean"
	UnscannedValue = "Not scanned: part of the message was too large for the virus scanner"
)

// Options are the per-message options the settings of a message come
// from: values, or rulesets choosing a value by sender, recipient and
// client.
type Options struct {
	DeliverCleaned ruleset.Setting // yes/no ([virus] deliver_cleaned)
	// RequiredScore and HighScore are the spam thresholds; a message's
	// spam level is computed again with its own.
	RequiredScore, HighScore                 ruleset.Setting
	SpamActions, HighSpamActions, HamActions ruleset.Setting
	// Actions are the parsed action lists of every value the three action
	// settings can give, by value: parsed once, at configuration load.
	Actions map[string]message.SpamActions
	// Silent matches the virus names deleted without any notice.
	Silent []*regexp.Regexp
	// NonForging matches the virus names that are never silent.
	NonForging []*regexp.Regexp
	// DeliverSilent is yes/no ([virus] deliver_silent).
	DeliverSilent ruleset.Setting
	// SpamVirus says a virus name is spam (SpamVirusMatcher).
	SpamVirus func(string) bool
	// ArchiveTo gives the archive addresses of a message; nil: none.
	ArchiveTo func(*message.Message) []string
	// TNEF is no/add/replace or a ruleset ([content] tnef_contents).
	TNEF ruleset.Setting
	// LocalDomains: infected mail from a sender in one of them (or a
	// subdomain) is quarantined whole instead of cleaned.
	LocalDomains []string
	ReplaceWhole bool   // see Settings.ReplaceWhole
	CleanValue   string // X-<Org>-QScan of a clean message
}

// PerMessage gives each message its Settings.
type PerMessage struct{ o Options }

// NewPerMessage returns the settings source for o.
func NewPerMessage(o Options) *PerMessage { return &PerMessage{o: o} }

// Settings returns the settings of m. It reads m and changes nothing:
// Settings.Spam is m's spam result leveled with m's thresholds.
func (p *PerMessage) Settings(m *message.Message) Settings {
	o, rm := p.o, ruleset.MsgOf(m)
	cleaned, _ := ruleset.Yes(o.DeliverCleaned.Resolve(rm))
	deliverSilent := ruleset.IsYes(o.DeliverSilent.Resolve(rm))
	req := score(o.RequiredScore.Resolve(rm), DefaultRequiredScore)
	high := score(o.HighScore.Resolve(rm), DefaultHighScore)
	var archiveTo []string
	if o.ArchiveTo != nil {
		archiveTo = o.ArchiveTo(m)
	}
	return Settings{
		ArchiveTo:      archiveTo,
		TNEF:           o.TNEF.Resolve(rm),
		DeliverCleaned: cleaned, Silent: o.Silent, ReplaceWhole: o.ReplaceWhole,
		NonForging: o.NonForging, DeliverSilent: deliverSilent, SpamVirus: o.SpamVirus,
		QuarantineWholeFromLocal: len(o.LocalDomains) > 0, LocalSender: isLocal(m.Envelope.Sender, o.LocalDomains),
		CleanValue: o.CleanValue, InfectedValue: InfectedValue, NotCleanValue: NotCleanValue, UnscannedValue: UnscannedValue,
		SpamActions:     o.Actions[o.SpamActions.Resolve(rm)],
		HighSpamActions: o.Actions[o.HighSpamActions.Resolve(rm)],
		HamActions:      o.Actions[o.HamActions.Resolve(rm)],
		Spam:            Level(m.Spam, req, high),
	}
}

// Yes returns a yes/no setting as a predicate on messages: yes when any
// recipient's rule says yes, as MailScanner decides "Virus Scanning" and
// "Spam Checks".
func Yes(s ruleset.Setting) func(m *message.Message) bool {
	return func(m *message.Message) bool {
		return s.AnyRecipient(ruleset.MsgOf(m), func(v string) bool {
			yes, _ := ruleset.Yes(v)
			return yes
		})
	}
}

// score parses a threshold, def when it is not a number (a ruleset
// without a default).
func score(v string, def float64) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return def
	}
	return f
}

// Level returns r leveled with the thresholds required and high: a copy
// when that changes it, r itself when it has no score to level (white- or
// blacklisted, no engine answered). A level that DNS list hits raised
// beyond the score stays.
func Level(r *message.SpamResult, required, high float64) *message.SpamResult {
	if r == nil || r.Whitelisted || r.Blacklisted || (r.Unchecked != "" && len(r.Engines) == 0) || r.Level == "" {
		return r
	}
	level := message.SpamHam
	switch {
	case r.Score >= high:
		level = message.SpamHigh
	case r.Score >= required:
		level = message.SpamSpam
	}
	c := *r
	if !slices.Contains(r.Engines, "DNSBL") || level.Rank() >= r.Level.Rank() {
		c.Level = level
	}
	c.Required = required
	return &c
}

// isLocal reports whether the sender's domain is one of domains (or a
// subdomain of one).
func isLocal(sender string, domains []string) bool {
	_, dom, ok := strings.Cut(strings.ToLower(sender), "@")
	if !ok {
		return false
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(d, "*."))
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}
