package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Spam configures the spam checks ([spam] and its engine tables).
type Spam struct {
	Engines             []string `toml:"engines"`
	Check               Setting  `toml:"check"` // yes/no or a ruleset: check this message?
	RequiredScore       Setting  `toml:"required_score"`
	HighScore           Setting  `toml:"high_score"`
	SpamActions         Setting  `toml:"spam_actions"`
	HighSpamActions     Setting  `toml:"high_spam_actions"`
	HamActions          Setting  `toml:"ham_actions"`
	SubjectTag          string   `toml:"subject_tag"`
	SubjectPosition     string   `toml:"subject_position"`
	Whitelist           []string `toml:"whitelist"`
	Blacklist           []string `toml:"blacklist"`
	BlacklistHigh       bool     `toml:"blacklist_high"`
	DefinitelyNotSpam   Setting  `toml:"definitely_not_spam"` // yes/no or a ruleset (MailScanner's "Is Definitely Not Spam")
	DefinitelySpam      Setting  `toml:"definitely_spam"`     // yes/no or a ruleset ("Is Definitely Spam")
	ListsToBeSpam       int      `toml:"lists_to_be_spam"`
	ListsToBeHigh       int      `toml:"lists_to_be_high"`
	HoldOnFailure       bool     `toml:"hold_on_failure"`
	Bounce              bool     `toml:"bounce"` // the "bounce" action sends (off by default: backscatter)
	AlwaysIncludeReport bool     `toml:"always_include_report"`
	MaxSize             Size     `toml:"max_size"`
	Oversize            string   `toml:"oversize"` // "truncate" or "skip": a message over max_size
	CacheTTL            Duration `toml:"cache_ttl"`
	CacheMaxEntries     int      `toml:"cache_max_entries"`
	MaxTimeouts         int      `toml:"max_timeouts"`
	Pause               Duration `toml:"pause"`

	Spamd  Spamd  `toml:"spamd"`
	Rspamd Rspamd `toml:"rspamd"`
	DNSBL  DNSBL  `toml:"dnsbl"`
}

// Spamd is [spam.spamd].
type Spamd struct {
	Address        string   `toml:"address"`
	Socket         string   `toml:"socket"`
	Timeout        Duration `toml:"timeout"`
	MaxSize        Size     `toml:"max_size"`
	MaxConnections int      `toml:"max_connections"`
	User           string   `toml:"user"`
	// Servers: several spamd (host:port or unix socket paths), pooled;
	// when set, address and socket are not used.
	Servers []string `toml:"servers"`
}

// Rspamd is [spam.rspamd].
type Rspamd struct {
	URL     string   `toml:"url"`
	Timeout Duration `toml:"timeout"`
	// URLs: several rspamd, pooled; when set, url is not used.
	URLs []string `toml:"urls"`
	// ControllerURL is rspamd's controller worker, where the web desk's
	// learn buttons post (/learnspam, /learnham); Password its password.
	ControllerURL string `toml:"controller_url"`
	Password      string `toml:"password"`
}

// DNSBL is [spam.dnsbl] with its [[spam.dnsbl.list]] entries.
type DNSBL struct {
	Timeout           Duration  `toml:"timeout"`
	SkipAuthenticated bool      `toml:"skip_authenticated"`
	Lists             []BLEntry `toml:"list"`
	// Definitions is a file in MailScanner's spam.lists.conf format
	// ("NAME zone" lines); IPLists and DomainLists name lists of it, added
	// to Lists as kind ip and domain.
	Definitions string   `toml:"definitions"`
	IPLists     []string `toml:"ip_lists"`
	DomainLists []string `toml:"domain_lists"`
}

// BLEntry is one block list.
type BLEntry struct {
	Name   string   `toml:"name"`
	Zone   string   `toml:"zone"`
	Kind   string   `toml:"kind"`   // "ip" or "domain"
	Expect []string `toml:"expect"` // answers meaning "listed", e.g. ["127.0.0.2", "127.0.0.0/24"]
}

func defaultSpam() Spam {
	return Spam{
		Engines:           []string{"spamd"},
		Check:             plain("yes"),
		DefinitelyNotSpam: plain("no"),
		DefinitelySpam:    plain("no"),
		RequiredScore:     plain("5"),
		HighScore:         plain("10"),
		SpamActions:       plain(`deliver header "X-Spam-Status: Yes"`),
		HighSpamActions:   plain("store"),
		HamActions:        plain("deliver"),
		SubjectTag:        "{Spam?}",
		SubjectPosition:   "start",
		ListsToBeSpam:     1, ListsToBeHigh: 3,
		AlwaysIncludeReport: true,
		MaxSize:             1 << 20,
		Oversize:            "truncate",
		CacheTTL:            Duration(300e9),
		CacheMaxEntries:     10000,
		MaxTimeouts:         3,
		Pause:               Duration(300e9),
		Spamd:               Spamd{Address: "127.0.0.1:783", Timeout: Duration(30e9), MaxSize: 256 << 10, MaxConnections: 8},
		Rspamd:              Rspamd{URL: "http://127.0.0.1:11333", Timeout: Duration(30e9), ControllerURL: "http://127.0.0.1:11334"},
		DNSBL:               DNSBL{Timeout: Duration(10e9)},
	}
}

func (s *Spam) validate(bad func(key, format string, a ...any)) {
	on := map[string]bool{}
	for _, e := range s.Engines {
		switch e {
		case "spamd", "rspamd", "dnsbl":
			on[e] = true
		default:
			bad("spam.engines", "spam.engines: unknown engine %q (use spamd, rspamd, dnsbl)", e)
		}
	}
	if r, h, ok := plainScores(s); ok && h < r {
		bad("spam.high_score", "spam.high_score: %g is below required_score %g", h, r)
	}
	if s.Oversize != "truncate" && s.Oversize != "skip" {
		bad("spam.oversize", "spam.oversize: %q: use truncate or skip", s.Oversize)
	}
	switch s.SubjectPosition {
	case "start", "end", "no":
	default:
		bad("spam.subject_position", "spam.subject_position: %q: use start, end or no", s.SubjectPosition)
	}
	if on["rspamd"] {
		if u, err := url.Parse(s.Rspamd.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("spam.rspamd.url", "spam.rspamd.url: %q is not an http(s) URL", s.Rspamd.URL)
		}
		if u, err := url.Parse(s.Rspamd.ControllerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("spam.rspamd.controller_url", "spam.rspamd.controller_url: %q is not an http(s) URL", s.Rspamd.ControllerURL)
		}
		if strings.ContainsFunc(s.Rspamd.Password, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			bad("spam.rspamd.password", "spam.rspamd.password: has control characters")
		}
		for _, r := range s.Rspamd.URLs {
			if u, err := url.Parse(r); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("spam.rspamd.urls", "spam.rspamd.urls: %q is not an http(s) URL", r)
			}
		}
	}
	if on["spamd"] {
		for _, a := range s.Spamd.Servers {
			if err := checkServer(a); err != nil {
				bad("spam.spamd.servers", "spam.spamd.servers: %q: %v", a, err)
			}
		}
	}
	if on["dnsbl"] && len(s.DNSBL.Lists) == 0 {
		bad("spam.dnsbl", "spam.dnsbl: engine dnsbl is on but no [[spam.dnsbl.list]] is defined")
	}
	for _, l := range s.DNSBL.Lists {
		if l.Name == "" || l.Zone == "" || strings.ContainsAny(l.Zone, " /") {
			bad("spam.dnsbl.list", "spam.dnsbl.list: each list needs a name and a zone (got name %q zone %q)", l.Name, l.Zone)
		}
		if l.Kind != "ip" && l.Kind != "domain" {
			bad("spam.dnsbl.list", "spam.dnsbl.list %s: kind %q: use ip or domain", l.Name, l.Kind)
		}
	}
}

// plainScores returns the plain (not ruleset) thresholds.
func plainScores(s *Spam) (required, high float64, ok bool) {
	r, err1 := strconv.ParseFloat(s.RequiredScore.Plain, 64)
	h, err2 := strconv.ParseFloat(s.HighScore.Plain, 64)
	return r, h, err1 == nil && err2 == nil && s.RequiredScore.Rules == nil && s.HighScore.Rules == nil
}

// Score parses a spam threshold value.
func Score(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a score", v)
	}
	return f, nil
}
