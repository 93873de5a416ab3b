package spam

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/qscan/qscan/pkg/message"
)

// Header names that SpamAssassin-style filters use.
const (
	HeaderStatus = "X-Spam-Status"
	HeaderLevel  = "X-Spam-Level"
	HeaderFlag   = "X-Spam-Flag"
)

// Bounds on what headers show.
const (
	MaxStars  = 50 // characters in X-Spam-Level and the score header
	maxReport = 40 // rules listed per engine in the report header
)

// HeaderNames are qscan's own spam header names for one organisation.
type HeaderNames struct {
	Check string // "X-<Org>-QScan-SpamCheck": the report
	Score string // "X-<Org>-QScan-SpamScore": one 's' per point
}

// Names returns the header names for org (config org_name), which must be
// made of letters, digits and '-' so that the names are valid header names.
func Names(org string) (HeaderNames, error) {
	if org == "" || len(org) > 40 || strings.ContainsFunc(org, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		return HeaderNames{}, fmt.Errorf("spam header names: org %q must be 1-40 letters, digits or '-'", org)
	}
	return HeaderNames{Check: message.QScanHeader(org, "-SpamCheck"), Score: message.QScanHeader(org, "-SpamScore")}, nil
}

// ShouldStrip reports whether an incoming header field called name must be
// removed before qscan adds its own, so that a sender cannot forge a
// verdict: every X-Spam-* field (X-Spam-Status, -Flag, -Level, -Report,
// -Score, -Checker-Version ...), rspamd's X-Spamd-Result and X-Spamd-Bar,
// and qscan's own X-<Org>-QScan-Spam* fields. Names compare without regard
// to case.
func ShouldStrip(name string, n HeaderNames) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	own := strings.ToLower(strings.TrimSuffix(n.Check, "Check"))
	switch {
	case strings.HasPrefix(name, "x-spam-"), name == "x-spamd-result", name == "x-spamd-bar":
		return true
	case own != "" && strings.HasPrefix(name, own):
		return true
	}
	return false
}

// StatusValue is the SpamAssassin-style X-Spam-Status value:
// "Yes, score=7.3 required=5.0 tests=RULE1,RULE2 autolearn=no". Rule
// names of all engines are listed in order; "none" when there are none.
// autolearn "" is shown as "no". Pass the result through Fold.
func StatusValue(v Verdict, autolearn string) string {
	yes := "No"
	if v.Level.IsSpam() {
		yes = "Yes"
	}
	var names []string
	for _, e := range v.Engines {
		for _, r := range e.Rules {
			names = append(names, r.Name)
		}
	}
	tests := "none"
	if len(names) > 0 {
		tests = strings.Join(names, ",")
	}
	if autolearn == "" {
		autolearn = "no"
	}
	return fmt.Sprintf("%s, score=%.1f required=%.1f tests=%s autolearn=%s", yes, v.Score, v.Required, tests, autolearn)
}

// Stars returns one c per whole point of score, at most MaxStars, and ""
// below 1: the X-Spam-Level ('*') and score header ('s') values.
func Stars(score float64, c byte) string {
	if !(score >= 1) {
		return ""
	}
	return strings.Repeat(string(c), int(min(score, MaxStars)))
}

// FlagValue is the X-Spam-Flag value: "YES" for spam, "" (add no header)
// for ham.
func FlagValue(v Verdict) string {
	if v.Level.IsSpam() {
		return "YES"
	}
	return ""
}

// ReportValue is the value of the X-<Org>-QScan-SpamCheck header, in
// MailScanner's words: "spam, SBL, SpamAssassin (score=7.3, required 5.0,
// RULE_A 1.20, RULE_B 3.10)", "not spam, SpamAssassin (...)", "spam
// (blacklisted)", "not spam (whitelisted)". A cached engine result says
// "cached, " first. Pass the result through Fold.
func ReportValue(v Verdict) string {
	word := "not spam"
	if v.Level.IsSpam() {
		word = "spam"
	}
	if v.Whitelisted {
		return word + " (whitelisted)"
	}
	parts := []string{word}
	if v.Blacklisted {
		parts[0] += " (blacklisted)"
	}
	parts = append(parts, v.Lists...)
	for _, e := range v.Engines {
		var b strings.Builder
		fmt.Fprintf(&b, "%s (", e.Name)
		if e.Cached {
			b.WriteString("cached, ")
		}
		fmt.Fprintf(&b, "score=%.1f, required %.1f", e.Score, e.Required)
		for i, r := range e.Rules {
			if i == maxReport {
				fmt.Fprintf(&b, ", and %d more", len(e.Rules)-i)
				break
			}
			fmt.Fprintf(&b, ", %s %.2f", r.Name, r.Score)
		}
		b.WriteString(")")
		parts = append(parts, b.String())
	}
	return strings.Join(parts, ", ")
}

// FoldWidth is the line length Fold aims for.
const FoldWidth = 78

// Fold returns "Name: value" folded for a header block: lines break before
// a space or after a comma once they pass FoldWidth, continuation lines
// start with a tab, lines end with nl ("\n" or "\r\n"); no final line end.
// Control characters in value are replaced by spaces so that a value can
// never start a new header field.
func Fold(name, value, nl string) string {
	value = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, value)
	var b strings.Builder
	b.WriteString(name + ":")
	lineLen := b.Len()
	for _, tok := range foldTokens(" " + value) {
		if lineLen+len(tok) > FoldWidth && lineLen > len(name)+1 {
			b.WriteString(nl + "\t")
			tok = strings.TrimLeft(tok, " ")
			lineLen = 1
		}
		b.WriteString(tok)
		lineLen += len(tok)
	}
	return b.String()
}

// foldTokens splits s before each space and after each comma.
func foldTokens(s string) []string {
	var toks []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ' ' && i > start:
			toks = append(toks, s[start:i])
			start = i
		case s[i] == ',':
			toks = append(toks, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// Position says where the subject tag goes.
type Position string

// The positions; PositionNone adds no tag.
const (
	PositionStart Position = "start"
	PositionEnd   Position = "end"
	PositionNone  Position = "no"
)

// ErrBadTag means a subject tag would break the header it goes into.
var ErrBadTag = errors.New("spam: subject tag contains control characters")

// TagSubject returns the Subject value with tag added at pos, unless the
// subject already carries it (so a message scanned twice is not tagged
// twice). In tag, _SCORE_ becomes the score ("7.3") and _STARS_ its stars;
// the tag is recognised with any score or stars in their place. subject is the raw value, possibly encoded words: the tag is plain
// ASCII in front of or after it, which readers accept.
func TagSubject(subject, tag string, pos Position, score float64) (string, error) {
	if strings.ContainsFunc(tag, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return subject, ErrBadTag
	}
	if tag == "" || pos == PositionNone || pos == "" {
		return subject, nil
	}
	if tagPattern(tag).MatchString(subject) {
		return subject, nil
	}
	tag = strings.ReplaceAll(tag, "_SCORE_", fmt.Sprintf("%.1f", score))
	tag = strings.ReplaceAll(tag, "_STARS_", Stars(score, '*'))
	trimmed := strings.TrimSpace(subject)
	switch {
	case trimmed == "":
		return tag, nil
	case pos == PositionEnd:
		return strings.TrimRight(subject, " \t") + " " + tag, nil
	}
	return tag + " " + strings.TrimLeft(subject, " \t"), nil
}

// tagPattern matches tag with its placeholders standing for any score or
// run of stars.
func tagPattern(tag string) *regexp.Regexp {
	q := regexp.QuoteMeta(tag)
	q = strings.ReplaceAll(q, "_SCORE_", `-?[0-9]+(?:\.[0-9]+)?`)
	q = strings.ReplaceAll(q, "_STARS_", `\**`)
	return regexp.MustCompile(q)
}
