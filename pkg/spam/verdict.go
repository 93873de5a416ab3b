package spam

import (
	"math"

	"github.com/qscan/qscan/pkg/message"
)

// Level is the verdict on one message: message.SpamLevel, the one type
// of spam levels, under the name this package's API has always used.
type Level = message.SpamLevel

// The levels, in increasing order.
const (
	Ham  = message.SpamHam
	Spam = message.SpamSpam
	High = message.SpamHigh // high-scoring spam
)

// Defaults for Policy fields.
const (
	DefaultRequired      = 5.0
	DefaultHigh          = 10.0
	DefaultListsToBeSpam = 1
	DefaultListsToBeHigh = 3
)

// Policy holds the thresholds of the verdict.
type Policy struct {
	Required float64 // score at or above which a message is spam; default 5.0
	High     float64 // score at or above which it is high-scoring spam; default 10.0
	// BlacklistHigh makes blacklisted senders high-scoring spam rather than
	// plain spam (MailScanner's "Definite Spam Is High Scoring"); default false.
	BlacklistHigh bool
	// ListsToBeSpam / ListsToBeHigh: DNS list hits that make a message spam /
	// high-scoring spam whatever its score; defaults 1 and 3, 0 = never.
	ListsToBeSpam int
	ListsToBeHigh int
}

// DefaultPolicy returns the policy with every default.
func DefaultPolicy() Policy {
	return Policy{Required: DefaultRequired, High: DefaultHigh, ListsToBeSpam: DefaultListsToBeSpam, ListsToBeHigh: DefaultListsToBeHigh}
}

// Classify returns the level of a score: High at or above p.High, Spam at
// or above p.Required, else Ham. A NaN score is Ham: engines' scores are
// checked for being finite before they get here.
func Classify(score float64, p Policy) Level {
	switch {
	case score >= p.High:
		return High
	case score >= p.Required:
		return Spam
	}
	return Ham
}

// Rule is one engine rule that hit, with its score.
type Rule struct {
	Name  string
	Score float64
}

// EngineResult is what one engine said, for the headers and the log.
type EngineResult struct {
	Name     string // as shown in the report header: "SpamAssassin", "rspamd"
	Score    float64
	Required float64
	Rules    []Rule
	Cached   bool
}

// Input is everything the verdict depends on.
type Input struct {
	// Score is the score to classify: usually the engine's score, or the
	// sum of several engines' scores, as the caller decides.
	Score       float64
	Engines     []EngineResult
	Lists       []string // names of the DNS lists that hit
	Whitelisted bool
	Blacklisted bool
}

// Verdict is the outcome for one message.
type Verdict struct {
	Input
	Level    Level
	Required float64 // the Policy's, for headers
}

// Decide is MailScanner's order as a pure function: a whitelisted message
// is ham whatever else is true (engines need not run for it); a
// blacklisted one is spam (High with Policy.BlacklistHigh); otherwise the
// highest of the score's level and the DNS lists' level wins.
func Decide(in Input, p Policy) Verdict {
	v := Verdict{Input: in, Level: Ham, Required: p.Required}
	if math.IsNaN(in.Score) || math.IsInf(in.Score, 0) {
		v.Score = 0
	}
	switch {
	case in.Whitelisted:
		return v
	case in.Blacklisted && p.BlacklistHigh:
		v.Level = High
		return v
	case in.Blacklisted:
		v.Level = Spam
	}
	v.Level = maxLevel(v.Level, Classify(v.Score, p))
	n := len(in.Lists)
	if p.ListsToBeHigh > 0 && n >= p.ListsToBeHigh {
		v.Level = High
	} else if p.ListsToBeSpam > 0 && n >= p.ListsToBeSpam {
		v.Level = maxLevel(v.Level, Spam)
	}
	return v
}

func maxLevel(a, b Level) Level {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}
