// Package policy decides what becomes of a checked message. It is a pure
// function of the message's reports, its spam result and the per-message
// settings: no I/O, no clock.
package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/qscan/qscan/pkg/message"
)

// Settings are the per-message options the decision depends on.
type Settings struct {
	// DeliverCleaned delivers a message whose dangerous parts were replaced
	// (MailScanner's "Deliver Cleaned Messages", default true). When false
	// such a message is quarantined whole.
	DeliverCleaned bool
	// Silent matches virus names that are deleted without any notice
	// (mass-mailers, spam-viruses): the whole message is dropped.
	Silent []*regexp.Regexp
	// NonForging matches virus names that are never silent, whatever
	// Silent or the engine says (MailScanner's "Non-Forging Viruses").
	NonForging []*regexp.Regexp
	// DeliverSilent delivers a message whose viruses are all silent
	// cleaned, without notices, instead of dropping it whole.
	DeliverSilent bool
	// SpamVirus says a virus name is really spam (MailScanner's "Virus
	// Names Which Are Spam"): the report makes the message spam instead
	// of infected. nil: none is.
	SpamVirus func(name string) bool
	// ArchiveTo get a copy of each delivered message ([quarantine]
	// archive_mail's addresses).
	ArchiveTo []string
	// TNEF says what becomes of a winmail.dat: TNEFKeep (""), TNEFAdd
	// or TNEFReplace ([content] tnef_contents).
	TNEF string
	// QuarantineWholeFromLocal quarantines infected mail whose sender is
	// local (LocalSender true) instead of cleaning it.
	QuarantineWholeFromLocal bool
	LocalSender              bool
	// SpamActions, HighSpamActions and HamActions are the parsed action
	// lists (spam.ParseActions) of the three levels.
	SpamActions, HighSpamActions, HamActions message.SpamActions
	// ReplaceWhole delivers a message whose problem is the whole message
	// (too large, unparsable, MIME limits) as a warning text in place of
	// its body, the original kept in the quarantine; when false (default)
	// such a message is quarantined whole.
	ReplaceWhole bool
	// Header values of X-<Org>-QScan.
	CleanValue, InfectedValue, NotCleanValue string
	// UnscannedValue is the header value of a message delivered although
	// part of it could not be scanned (deliver_unscannable).
	UnscannedValue string
	// Spam is the message's spam result leveled with its own thresholds
	// (see Level); nil: Message.Spam as it is.
	Spam *message.SpamResult
}

// Decide computes the decision for a checked message.
func Decide(m *message.Message, s Settings) message.Decision {
	d := message.Decision{Verdict: message.VerdictClean, Deliver: true, HeaderValue: s.CleanValue, Spam: m.Spam}
	if s.Spam != nil {
		d.Spam = s.Spam
	}
	var reasons, notes []string
	virus, silent := false, true
	var redirect, spamViruses []string
	for _, r := range m.Reports {
		if r.Kind == message.KindSpam {
			continue
		}
		if r.Kind == message.KindVirus && s.SpamVirus != nil && s.SpamVirus(r.Name) {
			spamViruses = append(spamViruses, r.Name)
			notes = append(notes, r.Text+" (a spam-virus: counted as spam)")
			continue
		}
		redirect = append(redirect, r.Redirect...)
		if r.Action == message.ActionRename && r.Rename != "" && r.Part >= 0 {
			// Delivered under a harmless name: logged, not a block.
			d.Rename = append(d.Rename, message.Replacement{Part: r.Part, MIMEPath: mimePath(m, r.Part), Rename: r.Rename, Report: r})
			notes = append(notes, r.Text)
			continue
		}
		if r.Action == message.ActionNone && r.Kind != message.KindVirus {
			notes = append(notes, r.Text) // informational: a macro, a duplicate header
			if r.Kind == message.KindError && r.Engine != "" && s.UnscannedValue != "" {
				d.HeaderValue = s.UnscannedValue // an engine could not scan it all
			}
			continue
		}
		reasons = append(reasons, r.Text)
		if r.Kind == message.KindVirus {
			virus = true
			if !r.Silent && !matchesAny(s.Silent, r.Name) || matchesAny(s.NonForging, r.Name) {
				silent = false
			}
		} else {
			silent = false
		}
		switch r.Action {
		case message.ActionQuarantine:
			if s.ReplaceWhole && r.Part < 0 {
				d.Replace = append(d.Replace, message.Replacement{Part: -1, Report: r})
			} else {
				d.QuarantineWhole, d.Deliver = true, false
			}
		case message.ActionDelete, message.ActionReplace:
			d.Replace = append(d.Replace, message.Replacement{Part: r.Part, MIMEPath: mimePath(m, r.Part), Delete: r.Action == message.ActionDelete, Report: r})
		case message.ActionDisarm:
			d.Disarm = append(d.Disarm, message.Replacement{Part: r.Part, MIMEPath: mimePath(m, r.Part), Report: r})
		case message.ActionNone: // a virus is never only reported
			d.Replace = append(d.Replace, message.Replacement{Part: r.Part, MIMEPath: mimePath(m, r.Part), Report: r})
		}
	}
	if len(spamViruses) > 0 {
		d.Spam = spamVirusResult(d.Spam, dedupe(spamViruses))
	}
	d.Reason = strings.Join(dedupe(reasons), "; ")
	d.Notes = dedupe(notes)
	if len(reasons) > 0 {
		d.Verdict, d.HeaderValue = message.VerdictBlocked, s.NotCleanValue
		if virus {
			d.Verdict, d.HeaderValue = message.VerdictInfected, s.InfectedValue
		}
		d.NotifyPostmaster = true
	}
	if virus && silent {
		if !s.DeliverSilent {
			return message.Decision{Verdict: message.VerdictSilent, Reason: d.Reason, QuarantineWhole: true, Spam: d.Spam}
		}
		d.NotifyPostmaster = false // cleaned and delivered, still silent
	}
	for i, r := range d.Replace {
		if r.Part < 0 || r.MIMEPath == "" {
			// Nothing to cut out: the whole message is the problem. It is
			// replaced by its warning text, or kept back whole.
			d.Replace[i].Part, d.Replace[i].MIMEPath = -1, ""
			if !s.ReplaceWhole {
				d.QuarantineWhole, d.Deliver = true, false
			}
		}
	}
	if len(d.Replace) > 0 {
		d.QuarantineParts = true
		if !s.DeliverCleaned || (virus && s.QuarantineWholeFromLocal && s.LocalSender) {
			d.QuarantineWhole, d.Deliver = true, false
		}
	}
	d.Rename = notReplaced(d.Rename, d.Replace)
	d.Unpack = tnefUnpack(m, d.Replace, s.TNEF)
	if !d.Deliver {
		d.Replace, d.Disarm, d.Rename, d.Unpack, d.QuarantineParts = nil, nil, nil, nil, false
		d.QuarantineWhole = true
		return d
	}
	for _, r := range d.Rename {
		// The log line says what was renamed.
		d.Reason = strings.TrimPrefix(d.Reason+"; "+r.Report.Text, "; ")
	}
	applySpam(&d, d.Spam, s)
	if len(redirect) > 0 {
		// A filename rule's address list: the message goes to them
		// instead of its recipients (MailScanner's rule files).
		d.Forward, d.ForwardOnly = dedupe(append(d.Forward, redirect...)), true
		sort.Strings(d.Forward)
	}
	if d.Deliver && !d.ForwardOnly && len(s.ArchiveTo) > 0 {
		d.Forward = dedupe(append(d.Forward, s.ArchiveTo...))
		sort.Strings(d.Forward)
	}
	return d
}

// notReplaced drops the renames of MIME parts that are replaced anyway,
// and those whose part cannot be located.
func notReplaced(renames, replaced []message.Replacement) []message.Replacement {
	gone := map[string]bool{}
	for _, r := range replaced {
		gone[r.MIMEPath] = true
	}
	var out []message.Replacement
	for _, r := range renames {
		if r.MIMEPath != "" && !gone[r.MIMEPath] {
			out = append(out, r)
		}
	}
	return out
}

// spamVirusResult is the spam result r (nil: none) raised to at least
// spam for the spam-viruses names.
func spamVirusResult(r *message.SpamResult, names []string) *message.SpamResult {
	out := message.SpamResult{Level: message.SpamSpam}
	if r != nil {
		out = *r
		out.Rules = append([]message.SpamRule(nil), r.Rules...)
		if out.Level.Rank() < message.SpamSpam.Rank() {
			out.Level = message.SpamSpam
		}
		out.Unchecked = ""
	}
	for _, n := range names {
		out.Rules = append(out.Rules, message.SpamRule{Name: "SPAM_VIRUS(" + n + ")"})
	}
	out.Engines = append(append([]string(nil), out.Engines...), "spam-virus")
	return &out
}

// SpamVirusMatcher reads MailScanner's "Virus Names Which Are Spam":
// whole names with * for any text, case-sensitive.
func SpamVirusMatcher(patterns []string) func(string) bool {
	if len(patterns) == 0 {
		return nil
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		parts := strings.Split(p, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		res = append(res, regexp.MustCompile("^"+strings.Join(parts, ".*")+"$"))
	}
	return func(name string) bool { return matchesAny(res, name) }
}

// mimePath maps a part index to the MIME leaf it lives in.
func mimePath(m *message.Message, i int) string {
	if i < 0 || i >= len(m.Parts) {
		return ""
	}
	return m.Parts[i].MIMEPath
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// applySpam adds the spam actions of the message's spam level.
func applySpam(d *message.Decision, r *message.SpamResult, s Settings) {
	if r == nil || r.Unchecked != "" && r.Level == "" {
		return
	}
	actions := s.HamActions
	switch r.Level {
	case message.SpamSpam:
		actions = s.SpamActions
	case message.SpamHigh:
		actions = s.HighSpamActions
	}
	if d.Verdict == message.VerdictClean {
		switch r.Level {
		case message.SpamSpam:
			d.Verdict = message.VerdictSpam
		case message.SpamHigh:
			d.Verdict = message.VerdictHighSpam
		}
	}
	deliver := len(actions) == 0 // no actions configured: deliver
	for _, a := range actions {
		switch a.Kind {
		case message.SpamDeliver:
			deliver = true
		case message.SpamStore:
			d.StoreSpam = true
		case message.SpamForward:
			d.Forward = append(d.Forward, a.Addr)
		case message.SpamBounce:
			d.Bounce = true
		case message.SpamStripHTML:
			d.StripHTML = true
		case message.SpamAttachment:
			d.SpamAttachment = true
		case message.SpamNotify:
			d.NotifyRecipient = true
		case message.SpamHeader:
			d.Headers = append(d.Headers, [2]string{strings.TrimSpace(a.Name), strings.TrimSpace(a.Value)})
		}
	}
	if d.Deliver && !deliver && len(d.Forward) > 0 {
		d.ForwardOnly = true // "forward ADDR" without "deliver": only ADDR gets it
	} else {
		d.Deliver = d.Deliver && deliver
	}
	if !d.Deliver && d.Reason == "" {
		d.Reason = fmt.Sprintf("%s (score %.1f, required %.1f)", d.Verdict, r.Score, r.Required)
	}
	sort.Strings(d.Forward)
}
