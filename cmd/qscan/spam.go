package main

import (
	"fmt"
	"net"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/spamcheck"
)

// spamOptions maps [spam] to the spam package's options.
func spamOptions(c config.Spam) spam.Options {
	return spam.Options{
		// The stage classifies with the plain values; rulesets re-level per
		// message in the policy (see policy.Level).
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

// spamStage builds the engines of [spam] and the stage over them.
func spamStage(c config.Spam, log logrus.FieldLogger) (*spamcheck.Stage, error) {
	var e spamcheck.Engines
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
	return spamcheck.New(spamcheck.Options{Spam: spamOptions(c), HoldOnFailure: c.HoldOnFailure, MaxSize: int64(c.MaxSize),
		SkipOversize:      c.Oversize == "skip",
		DefinitelyNotSpam: policy.Yes(c.DefinitelyNotSpam.Setting), DefinitelySpam: policy.Yes(c.DefinitelySpam.Setting)}, e, log, time.Now)
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

// spamActionLists parses, once, every action list the spam action
// settings can give (validated by config).
func spamActionLists(c config.Spam) map[string]message.SpamActions {
	out := map[string]message.SpamActions{}
	for _, s := range []config.Setting{c.SpamActions, c.HighSpamActions, c.HamActions} {
		for _, v := range s.Values() {
			out[v], _ = spam.ParseActions(v)
		}
	}
	return out
}

// spamHeaders maps [spam] to the spam check's header edits of a
// delivered message (spamcheck.DeliveredHeaders).
func spamHeaders(c *config.Config) func(m *message.Message) ([]message.HeaderEdit, error) {
	opts := spamcheck.DefaultHeaderOptions()
	opts.AlwaysReport, opts.SubjectTag, opts.SubjectPosition = c.Spam.AlwaysIncludeReport, c.Spam.SubjectTag, spam.Position(c.Spam.SubjectPosition)
	for _, l := range c.Spam.DNSBL.Lists {
		opts.Lists = append(opts.Lists, l.Name)
	}
	return func(m *message.Message) ([]message.HeaderEdit, error) {
		return spamcheck.DeliveredHeaders(m, c.Headers.OrgName, opts)
	}
}
