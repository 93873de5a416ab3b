package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/rebuild"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
	sstage "github.com/qscan/qscan/pkg/spam/stage"
)

// spamOptions maps [spam] to the spam package's options.
func spamOptions(c config.Spam) spam.Options {
	return spam.Options{
		// The stage classifies with the plain values; rulesets re-level per
		// message in the policy (see perMessageSpam).
		Engines: c.Engines, RequiredScore: score(c.RequiredScore.Plain, 5), HighScore: score(c.HighScore.Plain, 10),
		SpamActions: c.SpamActions.Plain, HighSpamActions: c.HighSpamActions.Plain,
		HamActions: c.HamActions.Plain, SubjectTag: c.SubjectTag, SubjectPosition: spam.Position(c.SubjectPosition),
		BlacklistHigh: c.BlacklistHigh, ListsToBeSpam: c.ListsToBeSpam, ListsToBeHigh: c.ListsToBeHigh,
		Whitelist: c.Whitelist, Blacklist: c.Blacklist, CacheTTL: c.CacheTTL.D(), CacheMaxEntries: c.CacheMaxEntries,
		MaxTimeouts: c.MaxTimeouts, Pause: c.Pause.D(),
	}
}

// score parses a threshold, def when it is not a number (a ruleset
// without a default).
func score(v string, def float64) float64 {
	f, err := config.Score(v)
	if err != nil {
		return def
	}
	return f
}

// perMessageSpam re-levels a spam result with the message's thresholds
// (spam.required_score and spam.high_score may be rulesets).
func perMessageSpam(c config.Spam, m *message.Message) {
	r := m.Spam
	if r == nil || r.Whitelisted || r.Blacklisted || (r.Unchecked != "" && len(r.Engines) == 0) || r.Level == "" {
		return
	}
	rm := rulesMsg(m)
	req := score(c.RequiredScore.Resolve(rm), 5)
	high := score(c.HighScore.Resolve(rm), 10)
	level := "ham"
	switch {
	case r.Score >= high:
		level = "high"
	case r.Score >= req:
		level = "spam"
	}
	// DNS list hits may have raised the level beyond the score: keep that.
	rank := map[string]int{"ham": 0, "spam": 1, "high": 2}
	if !slices.Contains(r.Engines, "DNSBL") || rank[level] >= rank[r.Level] {
		r.Level = level
	}
	r.Required = req
}

// spamStage builds the engines of [spam] and the stage over them.
func spamStage(c config.Spam, log logrus.FieldLogger) (*sstage.Stage, error) {
	var e sstage.Engines
	for _, name := range c.Engines {
		switch name {
		case "spamd":
			cl, err := spamdClient(c)
			if err != nil {
				return nil, err
			}
			e.Spamd = cl
		case "rspamd":
			cl, err := rspamdClient(c)
			if err != nil {
				return nil, err
			}
			e.Rspamd = cl
		case "dnsbl":
			ch, err := dnsblChecker(c.DNSBL, log)
			if err != nil {
				return nil, err
			}
			e.DNSBL = ch
		}
	}
	if log == nil {
		log = logrus.New()
	}
	return sstage.New(sstage.Options{Spam: spamOptions(c), HoldOnFailure: c.HoldOnFailure, MaxSize: int64(c.MaxSize)}, e, log, time.Now)
}

// spamdClient and rspamdClient build the clients of [spam.spamd] and
// [spam.rspamd] (also for `qscan lint`).
func spamdClient(c config.Spam) (*spamd.Client, error) {
	cl, err := spamd.New(spamd.Options{Address: c.Spamd.Address, Socket: c.Spamd.Socket, Timeout: c.Spamd.Timeout.D(),
		MaxSize: int64(c.Spamd.MaxSize), MaxConnections: c.Spamd.MaxConnections, User: c.Spamd.User})
	if err != nil {
		return nil, fmt.Errorf("spamd: %w", err)
	}
	return cl, nil
}

func rspamdClient(c config.Spam) (*rspamd.Client, error) {
	cl, err := rspamd.New(rspamd.Options{URL: c.Rspamd.URL, Timeout: c.Rspamd.Timeout.D()})
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	return cl, nil
}

func dnsblChecker(c config.DNSBL, log logrus.FieldLogger) (*dnsbl.Checker, error) {
	var lists []dnsbl.List
	for _, l := range c.Lists {
		exp, err := dnsbl.ParseExpect(l.Expect)
		if err != nil {
			return nil, fmt.Errorf("spam.dnsbl.list %s: %w", l.Name, err)
		}
		lists = append(lists, dnsbl.List{Name: l.Name, Zone: l.Zone, Kind: dnsbl.Kind(l.Kind), Expect: exp})
	}
	return dnsbl.New(dnsbl.Options{Lists: lists, Timeout: c.Timeout.D(), SkipAuthenticated: c.SkipAuthenticated,
		OnPause: func(list string, paused bool, until time.Time) {
			if log != nil && paused {
				log.Warnf("DNS block list %s keeps timing out: paused until %s", list, until.Format(time.TimeOnly))
			}
		}}, net.DefaultResolver)
}

// spamActions renders a parsed action list for the policy.
func spamActions(s string) ([]string, error) {
	as, err := spam.ParseActions(s)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out, nil
}

// extraHeaders returns the spam headers and the subject tags of a
// delivered message.
func extraHeaders(c *config.Config, log logrus.FieldLogger) func(m *message.Message, d *message.Decision) []message.HeaderEdit {
	spamEdits := spamHeaders(c, log)
	return func(m *message.Message, d *message.Decision) []message.HeaderEdit {
		edits := spamEdits(m, d)
		tag := contentTag(c.Headers, d)
		if tag == "" {
			return edits
		}
		// Tag the subject as the spam edits left it (they may have tagged it too).
		subject, at := headerValue(m.Header, "Subject"), -1
		for i, e := range edits {
			if e.Op == "replace" && strings.EqualFold(e.Name, "Subject") {
				subject, at = e.Value, i
			}
		}
		e := message.HeaderEdit{Op: "replace", Name: "Subject", Value: rebuild.TagSubject(subject, tag)}
		if at >= 0 {
			edits[at] = e
			return edits
		}
		return append(edits, e)
	}
}

// contentTag is the subject tag for what was taken out of a message.
func contentTag(h config.Headers, d *message.Decision) string {
	tags := map[message.ReportKind]string{message.KindVirus: h.VirusSubjectTag, message.KindFilename: h.FilenameSubjectTag,
		message.KindFiletype: h.FilenameSubjectTag, message.KindSize: h.SizeSubjectTag, message.KindContent: h.ContentSubjectTag,
		message.KindError: h.ContentSubjectTag}
	best := ""
	for _, r := range d.Replace {
		t := tags[r.Report.Kind]
		if r.Report.Kind == message.KindVirus && t != "" {
			return t // a virus tag says the most
		}
		if best == "" {
			best = t
		}
	}
	return best
}

// headerValue returns the unfolded first value of a header field.
func headerValue(block []byte, name string) string {
	var val []string
	in := false
	for _, l := range strings.Split(string(block), "\n") {
		l = strings.TrimRight(l, "\r")
		if in && l != "" && (l[0] == ' ' || l[0] == '\t') {
			val = append(val, strings.TrimSpace(l))
			continue
		}
		if in {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			val, in = []string{strings.TrimSpace(v)}, true
		}
	}
	return strings.Join(val, " ")
}

// spamHeaders returns the header edits for a delivered message's spam
// result. The checker leaves out the action headers of the same names
// (see pipeline.CheckerOptions.ExtraHeaders): these say more
// ("X-Spam-Status: Yes, score=7.3 required=5.0 tests=..."). A message that
// was not spam-checked loses the X-<Org>-QScan-Spam* fields it came with:
// they would speak for this qscan, which said nothing.
func spamHeaders(c *config.Config, log logrus.FieldLogger) func(m *message.Message, d *message.Decision) []message.HeaderEdit {
	opts := sstage.DefaultHeaderOptions()
	opts.AlwaysReport, opts.SubjectTag, opts.SubjectPosition = c.Spam.AlwaysIncludeReport, c.Spam.SubjectTag, spam.Position(c.Spam.SubjectPosition)
	for _, l := range c.Spam.DNSBL.Lists {
		opts.Lists = append(opts.Lists, l.Name)
	}
	own := "x-" + strings.ToLower(c.Headers.OrgName) + "-qscan-spam"
	return func(m *message.Message, d *message.Decision) []message.HeaderEdit {
		edits, err := sstage.Headers(m.Spam, m.Header, c.Headers.OrgName, opts)
		if err != nil {
			log.WithError(err).Warn("spam headers")
			return nil
		}
		var out []message.HeaderEdit
		for _, e := range edits {
			if m.Spam == nil && !strings.HasPrefix(strings.ToLower(e.Name), own) {
				continue // another filter's X-Spam-* may stand when we did not check
			}
			out = append(out, message.HeaderEdit{Op: e.Op, Name: e.Name, Value: e.Value})
		}
		return out
	}
}

// listedSpam decides "definitely not spam" and "definitely spam" (values
// or rulesets) before the engines are asked.
type listedSpam struct {
	pipeline.Stage
	notSpam, isSpam func(m *message.Message) bool
	high            bool
}

func (l listedSpam) Check(ctx context.Context, m *message.Message) error {
	switch {
	case l.notSpam(m):
		m.Spam = &message.SpamResult{Level: "ham", Whitelisted: true}
		return nil
	case l.isSpam(m):
		level := "spam"
		if l.high {
			level = "high"
		}
		m.Spam = &message.SpamResult{Level: level, Blacklisted: true}
		return nil
	}
	return l.Stage.Check(ctx, m)
}
