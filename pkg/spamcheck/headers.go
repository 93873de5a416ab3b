package spamcheck

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

// HeaderOptions configure Headers.
type HeaderOptions struct {
	// AlwaysReport adds the X-<Org>-QScan-SpamCheck report to ham too
	// (config "[spam] always_include_report"; default true, MailScanner's
	// "Always Include SpamAssassin Report"). When false only spam,
	// high-scoring spam and unchecked messages get it.
	AlwaysReport bool
	// SubjectTag and SubjectPosition: see spam.Options (defaults "{Spam?}"
	// and start); a tag "" or position "no" leaves the subject alone.
	SubjectTag      string
	SubjectPosition spam.Position
	// Lists are the names of the configured DNS block lists, so that their
	// hits among SpamResult.Rules show as lists in the report.
	Lists []string
}

// DefaultHeaderOptions returns the defaults.
func DefaultHeaderOptions() HeaderOptions {
	d := spam.DefaultOptions()
	return HeaderOptions{AlwaysReport: true, SubjectTag: d.SubjectTag, SubjectPosition: d.SubjectPosition}
}

// Headers returns the header edits for a delivered message whose header
// block is header and whose spam result is r: first the deletion of every
// incoming field a sender could forge a verdict with (spam.ShouldStrip),
// then X-Spam-Status, X-Spam-Level (score 1 or more), X-Spam-Flag (spam),
// X-<Org>-QScan-SpamCheck (the report; "not checked: why" when no engine
// gave a verdict), X-<Org>-QScan-SpamScore (score 1 or more), and the
// subject tag for spam. A nil r (no spam check) gives the deletions only.
// org must be valid for spam.Names.
func Headers(r *message.SpamResult, header []byte, org string, opts HeaderOptions) ([]message.HeaderEdit, error) {
	names, err := spam.Names(org)
	if err != nil {
		return nil, fmt.Errorf("spam headers: %w", err)
	}
	fields := message.HeaderFields(header)
	var edits []message.HeaderEdit
	seen := map[string]bool{}
	for _, f := range fields {
		if low := strings.ToLower(f.Name); !seen[low] && spam.ShouldStrip(f.Name, names) {
			seen[low] = true
			edits = append(edits, message.HeaderEdit{Op: message.HeaderDelete, Name: f.Name})
		}
	}
	if r == nil {
		return edits, nil
	}
	nl := lineEnd(header)
	add := func(name, value string) {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderAdd, Name: name, Value: fold(name, value, nl)})
	}
	v := verdictOf(r, opts.Lists)
	if noVerdict(r, v) {
		add(names.Check, "not checked: "+clip(r.Unchecked))
		return edits, nil
	}
	add(spam.HeaderStatus, spam.StatusValue(v, ""))
	if stars := spam.Stars(v.Score, '*'); stars != "" {
		add(spam.HeaderLevel, stars)
	}
	if flag := spam.FlagValue(v); flag != "" {
		add(spam.HeaderFlag, flag)
	}
	if opts.AlwaysReport || v.Level.IsSpam() || r.Unchecked != "" {
		report := spam.ReportValue(v)
		if r.Unchecked != "" {
			report += ", not checked: " + clip(r.Unchecked)
		}
		add(names.Check, report)
	}
	if stars := spam.Stars(v.Score, 's'); stars != "" {
		add(names.Score, stars)
	}
	if e, ok := subjectEdit(fields, v, opts); ok {
		edits = append(edits, e)
	}
	return edits, nil
}

// verdictOf rebuilds the verdict the report header shows: the DNS lists
// that hit, and the scoring engines as one entry ("SpamAssassin+rspamd")
// with the result's score and the other rules.
func verdictOf(r *message.SpamResult, lists []string) spam.Verdict {
	v := spam.Verdict{Level: r.Level, Required: r.Required}
	v.Score, v.Whitelisted, v.Blacklisted = r.Score, r.Whitelisted, r.Blacklisted
	var engines []string
	for _, e := range r.Engines {
		if e != NameDNSBL {
			engines = append(engines, e)
		}
	}
	var rules []spam.Rule
	for _, rule := range r.Rules {
		if slices.Contains(lists, rule.Name) {
			v.Lists = append(v.Lists, rule.Name)
		} else {
			rules = append(rules, spam.Rule{Name: rule.Name, Score: rule.Score})
		}
	}
	if len(engines) > 0 {
		v.Engines = []spam.EngineResult{{Name: strings.Join(engines, "+"), Score: r.Score,
			Required: r.Required, Rules: rules, Cached: r.Cached}}
	}
	return v
}

// noVerdict reports whether nothing at all was learnt about the message.
func noVerdict(r *message.SpamResult, v spam.Verdict) bool {
	return r.Unchecked != "" && len(r.Engines) == 0 && len(v.Lists) == 0 && !r.Whitelisted && !r.Blacklisted
}

// subjectEdit tags the subject of spam.
func subjectEdit(fields []message.HeaderField, v spam.Verdict, opts HeaderOptions) (message.HeaderEdit, bool) {
	if !v.Level.IsSpam() || opts.SubjectTag == "" || opts.SubjectPosition == spam.PositionNone {
		return message.HeaderEdit{}, false
	}
	subject := ""
	for _, f := range fields {
		if strings.EqualFold(f.Name, "Subject") {
			subject = f.Value()
			break
		}
	}
	tagged, err := spam.TagSubject(subject, opts.SubjectTag, opts.SubjectPosition, v.Score)
	if err != nil || tagged == subject {
		return message.HeaderEdit{}, false
	}
	return message.HeaderEdit{Op: message.HeaderReplace, Name: "Subject", Value: tagged}, true
}

// fold folds "name: value" and returns the part after "name: ".
func fold(name, value, nl string) string {
	return strings.TrimPrefix(spam.Fold(name, value, nl), name+": ")
}

// lineEnd returns the header's line ending: CRLF if it uses it, else LF.
func lineEnd(header []byte) string {
	if bytes.Contains(header, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// DeliveredHeaders returns the spam header edits of the delivered copy of
// m: Headers of its spam result. A message that was not spam-checked
// (m.Spam nil) loses only the X-<Org>-QScan-Spam* fields it came with:
// they would speak for this qscan, which said nothing, while another
// filter's X-Spam-* may stand.
func DeliveredHeaders(m *message.Message, org string, opts HeaderOptions) ([]message.HeaderEdit, error) {
	edits, err := Headers(m.Spam, m.Header, org, opts)
	if err != nil || m.Spam != nil {
		return edits, err
	}
	own := strings.ToLower(message.QScanHeader(org, "-Spam"))
	var out []message.HeaderEdit
	for _, e := range edits {
		if strings.HasPrefix(strings.ToLower(e.Name), own) {
			out = append(out, e)
		}
	}
	return out, nil
}
