package stage

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

// Header edit operations.
const (
	OpDelete  = "delete"  // remove every field called Name
	OpAdd     = "add"     // append Name: Value at the end of the header
	OpReplace = "replace" // set the first field called Name to Value, or add it
)

// HeaderEdit is one change to a delivered message's header. Value is the
// field body after "Name: ", folded for the header's line ending
// (continuation lines start with a tab) and free of other control
// characters. Names compare without regard to case.
type HeaderEdit struct {
	Op    string
	Name  string
	Value string
}

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
func Headers(r *message.SpamResult, header []byte, org string, opts HeaderOptions) ([]HeaderEdit, error) {
	names, err := spam.Names(org)
	if err != nil {
		return nil, fmt.Errorf("spam headers: %w", err)
	}
	fields := splitFields(header)
	var edits []HeaderEdit
	seen := map[string]bool{}
	for _, f := range fields {
		if low := strings.ToLower(f.name); !seen[low] && spam.ShouldStrip(f.name, names) {
			seen[low] = true
			edits = append(edits, HeaderEdit{Op: OpDelete, Name: f.name})
		}
	}
	if r == nil {
		return edits, nil
	}
	nl := lineEnd(header)
	add := func(name, value string) {
		edits = append(edits, HeaderEdit{Op: OpAdd, Name: name, Value: fold(name, value, nl)})
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
	v := spam.Verdict{Level: spam.Level(r.Level), Required: r.Required}
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
func subjectEdit(fields []field, v spam.Verdict, opts HeaderOptions) (HeaderEdit, bool) {
	if !v.Level.IsSpam() || opts.SubjectTag == "" || opts.SubjectPosition == spam.PositionNone {
		return HeaderEdit{}, false
	}
	subject := ""
	for _, f := range fields {
		if strings.EqualFold(f.name, "Subject") {
			subject = f.value()
			break
		}
	}
	tagged, err := spam.TagSubject(subject, opts.SubjectTag, opts.SubjectPosition, v.Score)
	if err != nil || tagged == subject {
		return HeaderEdit{}, false
	}
	return HeaderEdit{Op: OpReplace, Name: "Subject", Value: tagged}, true
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

// field is one header field as it appears in the block: raw holds every
// line of it, line endings included. A line that is neither a field nor
// a continuation has name "".
type field struct {
	name string
	raw  []byte
}

// value returns the field body after the colon without leading blanks and
// the final line ending; inner folds are kept.
func (f field) value() string {
	_, v, _ := bytes.Cut(f.raw, []byte(":"))
	s := strings.TrimLeft(string(v), " \t")
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// splitFields splits a header block into fields. It never fails: bytes it
// does not understand become nameless fields kept as they are.
func splitFields(header []byte) []field {
	var fields []field
	start := 0 // of the last field
	for off := 0; off < len(header); {
		end := len(header)
		if i := bytes.IndexByte(header[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		line := header[off:end]
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1].raw = header[start:end]
			off = end
			continue
		}
		name := ""
		if i := bytes.IndexByte(line, ':'); i > 0 && validName(line[:i]) {
			name = string(line[:i])
		}
		fields = append(fields, field{name: name, raw: line})
		start, off = off, end
	}
	return fields
}

// validName accepts RFC 5322 field names: printable ASCII but ':' and space.
func validName(b []byte) bool {
	return !bytes.ContainsFunc(b, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' })
}
