package spam

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Engine names accepted in Options.Engines.
const (
	EngineSpamd  = "spamd"
	EngineRspamd = "rspamd"
	EngineDNSBL  = "dnsbl"
)

// Options mirrors the [spam] config section; DefaultOptions holds the
// defaults. The engines have their own options (spamd.Options,
// rspamd.Options, dnsbl.Options).
type Options struct {
	Engines         []string      // config "engines"; default ["spamd"]
	RequiredScore   float64       // "required_score"; default 5.0
	HighScore       float64       // "high_score"; default 10.0
	SpamActions     string        // "spam_actions"; default `deliver header "X-Spam-Status: Yes"`
	HighSpamActions string        // "high_spam_actions"; default "store"
	HamActions      string        // "ham_actions"; default `deliver header "X-Spam-Status: No"`
	SubjectTag      string        // "subject_tag"; default "{Spam?}"; "" = no tag
	SubjectPosition Position      // "subject_position": start|end|no; default start
	BlacklistHigh   bool          // "blacklist_high": blacklisted = high-scoring; default false
	ListsToBeSpam   int           // "lists_to_be_spam": DNS list hits that make spam; default 1
	ListsToBeHigh   int           // "lists_to_be_high": hits that make high-scoring spam; default 3
	Whitelist       []string      // "whitelist": entries as in List; default none
	Blacklist       []string      // "blacklist"; default none
	CacheTTL        time.Duration // "cache_ttl": result cache entry life; default 5 min
	CacheMaxEntries int           // "cache_max_entries"; default 10000
	MaxTimeouts     int           // engine health: consecutive timeouts; default 3
	Pause           time.Duration // engine health: pause; default 5 min
}

// DefaultOptions returns the [spam] defaults.
func DefaultOptions() Options {
	return Options{
		Engines:         []string{EngineSpamd},
		RequiredScore:   DefaultRequired,
		HighScore:       DefaultHigh,
		SpamActions:     `deliver header "X-Spam-Status: Yes"`,
		HighSpamActions: "store",
		HamActions:      `deliver header "X-Spam-Status: No"`,
		SubjectTag:      "{Spam?}",
		SubjectPosition: PositionStart,
		ListsToBeSpam:   DefaultListsToBeSpam,
		ListsToBeHigh:   DefaultListsToBeHigh,
		CacheTTL:        DefaultCacheTTL,
		CacheMaxEntries: DefaultCacheMaxEntries,
		MaxTimeouts:     DefaultMaxTimeouts,
		Pause:           DefaultPause,
	}
}

// Compiled is Options checked and parsed, ready for use.
type Compiled struct {
	Policy    Policy
	Spam      Actions
	High      Actions
	Ham       Actions
	Whitelist *List
	Blacklist *List
}

// Actions returns the actions for a level.
func (c *Compiled) Actions(l Level) Actions {
	switch l {
	case High:
		return c.High
	case Spam:
		return c.Spam
	}
	return c.Ham
}

// Compile checks o and reports every problem at once.
func (o Options) Compile() (*Compiled, error) {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]bool{}
	for _, e := range o.Engines {
		switch {
		case e != EngineSpamd && e != EngineRspamd && e != EngineDNSBL:
			add(fmt.Errorf("spam engines: unknown engine %q, want %q, %q or %q", e, EngineSpamd, EngineRspamd, EngineDNSBL))
		case seen[e]:
			add(fmt.Errorf("spam engines: %q listed twice", e))
		}
		seen[e] = true
	}
	if !finitePositive(o.RequiredScore) || !finitePositive(o.HighScore) || o.HighScore < o.RequiredScore {
		add(fmt.Errorf("spam scores: required_score %v and high_score %v must be positive with high_score >= required_score", o.RequiredScore, o.HighScore))
	}
	if o.ListsToBeSpam < 0 || o.ListsToBeHigh < 0 || o.CacheMaxEntries < 0 || o.MaxTimeouts < 0 || o.CacheTTL < 0 || o.Pause < 0 {
		add(errors.New("spam options: negative list count, cache size, timeout count or duration"))
	}
	if !slices.Contains([]Position{PositionStart, PositionEnd, PositionNone, ""}, o.SubjectPosition) {
		add(fmt.Errorf("spam subject_position %q: want start, end or no", o.SubjectPosition))
	}
	if _, err := TagSubject("", o.SubjectTag, PositionStart, 0); err != nil {
		add(fmt.Errorf("spam subject_tag %q: %w", o.SubjectTag, err))
	}
	c := &Compiled{Policy: Policy{Required: o.RequiredScore, High: o.HighScore, BlacklistHigh: o.BlacklistHigh, ListsToBeSpam: o.ListsToBeSpam, ListsToBeHigh: o.ListsToBeHigh}}
	var err error
	c.Spam, err = ParseActions(o.SpamActions)
	add(wrapOpt("spam_actions", err))
	c.High, err = ParseActions(o.HighSpamActions)
	add(wrapOpt("high_spam_actions", err))
	if c.High.Has(ActBounce) {
		add(errors.New("spam high_spam_actions: bounce is not allowed for high-scoring spam (backscatter)"))
	}
	c.Ham, err = ParseActions(o.HamActions)
	add(wrapOpt("ham_actions", err))
	c.Whitelist, err = ParseList(o.Whitelist)
	add(wrapOpt("whitelist", err))
	c.Blacklist, err = ParseList(o.Blacklist)
	add(wrapOpt("blacklist", err))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func wrapOpt(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("spam %s: %w", name, err)
}

func finitePositive(f float64) bool { return f > 0 && !math.IsInf(f, 0) }
