package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/pool"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/spamcheck"
	"github.com/qscan/qscan/pkg/web"
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
func spamStage(c config.Spam, log logrus.FieldLogger, lists *web.Lists) (*spamcheck.Stage, error) {
	var e spamcheck.Engines
	for _, name := range c.Engines {
		switch name {
		case "spamd":
			if len(c.Spamd.Servers) > 0 {
				p, err := spamdPool(c)
				if err != nil {
					return nil, err
				}
				if log != nil {
					p.SetOnChange(poolLogger(log, "spam engine spamd"))
				}
				e.Spamd = p
				break
			}
			cl, err := spamdClient(c)
			if err != nil {
				return nil, err
			}
			e.Spamd = cl
		case "rspamd":
			if len(c.Rspamd.URLs) > 0 {
				p, err := rspamdPool(c)
				if err != nil {
					return nil, err
				}
				if log != nil {
					p.SetOnChange(poolLogger(log, "spam engine rspamd"))
				}
				e.Rspamd = p
				break
			}
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
	notSpam, isSpam := withLists(policy.Yes(c.DefinitelyNotSpam.Setting), policy.Yes(c.DefinitelySpam.Setting), lists)
	return spamcheck.New(spamcheck.Options{Spam: spamOptions(c), HoldOnFailure: c.HoldOnFailure, MaxSize: int64(c.MaxSize),
		SkipOversize:      c.Oversize == "skip",
		DefinitelyNotSpam: notSpam, DefinitelySpam: isSpam}, e, log, time.Now)
}

// spamdClient and rspamdClient build the clients of [spam.spamd] and
// [spam.rspamd] (also for `qscan lint`).
func spamdClient(c config.Spam) (*spamd.Client, error) {
	return spamdAt(c, c.Spamd.Socket, c.Spamd.Address)
}

func spamdAt(c config.Spam, socket, address string) (*spamd.Client, error) {
	cl, err := spamd.New(spamd.Options{Address: address, Socket: socket, Timeout: c.Spamd.Timeout.D(),
		MaxSize: int64(c.Spamd.MaxSize), MaxConnections: c.Spamd.MaxConnections, User: c.Spamd.User})
	if err != nil {
		return nil, fmt.Errorf("spamd: %w", err)
	}
	return cl, nil
}

func rspamdClient(c config.Spam) (*rspamd.Client, error) {
	return rspamdAt(c, c.Rspamd.URL)
}

func rspamdAt(c config.Spam, url string) (*rspamd.Client, error) {
	cl, err := rspamd.New(rspamd.Options{URL: url, Timeout: c.Rspamd.Timeout.D(),
		Controller: c.Rspamd.ControllerURL, Password: c.Rspamd.Password})
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	return cl, nil
}

// spamdClients and rspamdClients are every server of [spam.spamd] and
// [spam.rspamd]: the servers list, or else the one address.
func spamdClients(c config.Spam) ([]*spamd.Client, error) {
	if len(c.Spamd.Servers) == 0 {
		cl, err := spamdClient(c)
		return []*spamd.Client{cl}, err
	}
	var out []*spamd.Client
	for _, s := range c.Spamd.Servers {
		socket, address := serverAddr(s)
		cl, err := spamdAt(c, socket, address)
		if err != nil {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

func rspamdClients(c config.Spam) ([]*rspamd.Client, error) {
	if len(c.Rspamd.URLs) == 0 {
		cl, err := rspamdClient(c)
		return []*rspamd.Client{cl}, err
	}
	var out []*rspamd.Client
	for _, u := range c.Rspamd.URLs {
		cl, err := rspamdAt(c, u)
		if err != nil {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

// spamdPool and rspamdPool pool the servers of a servers (urls) list.
func spamdPool(c config.Spam) (spamcheck.PooledSpamd, error) {
	cls, err := spamdClients(c)
	if err != nil {
		return spamcheck.PooledSpamd{}, err
	}
	var ms []pool.Member[spamcheck.SpamdClient]
	for _, cl := range cls {
		ms = append(ms, pool.Member[spamcheck.SpamdClient]{Name: cl.Addr(), Server: cl})
	}
	probe := func(ctx context.Context, s spamcheck.SpamdClient) error { return s.(*spamd.Client).Ping(ctx) }
	return spamcheck.PooledSpamd{Pool: pool.New(ms, pool.Options[spamcheck.SpamdClient]{Probe: probe})}, nil
}

func rspamdPool(c config.Spam) (spamcheck.PooledRspamd, error) {
	cls, err := rspamdClients(c)
	if err != nil {
		return spamcheck.PooledRspamd{}, err
	}
	var ms []pool.Member[spamcheck.RspamdClient]
	for _, cl := range cls {
		ms = append(ms, pool.Member[spamcheck.RspamdClient]{Name: cl.Endpoint(), Server: cl})
	}
	probe := func(ctx context.Context, s spamcheck.RspamdClient) error {
		_, errs := s.(*rspamd.Client).SelfTest(ctx)
		return errors.Join(errs...)
	}
	return spamcheck.PooledRspamd{Pool: pool.New(ms, pool.Options[spamcheck.RspamdClient]{Probe: probe})}, nil
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
