// Package spamcheck is the spam check of the pipeline: it runs the configured
// spam engines (spamd, rspamd, DNS block lists) on a message, in parallel,
// with white and black lists, a result cache, engine health and a failure
// policy, and records the verdict in Message.Spam. Headers turns that
// verdict into the header edits of the delivered message.
//
// Spam checking is not a safety check: by default an engine that fails
// lets the message through without a verdict from that engine, and the
// headers say so (Options.HoldOnFailure holds it for a retry instead).
package spamcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// DefaultMaxSize is the default of Options.MaxSize.
const DefaultMaxSize = 1 << 20

// maxReason bounds the text of Unchecked.
const maxReason = 300

// Options configure the stage.
type Options struct {
	// Spam is the [spam] section: thresholds, lists, cache and health.
	Spam spam.Options
	// HoldOnFailure (config "[spam] hold_on_failure"; default false) holds
	// a message in the incoming queue for a retry when spamd or rspamd
	// cannot give a verdict (down, timing out, paused). When false the
	// message goes on without that engine's verdict and
	// Message.Spam.Unchecked says why. Failures that retrying cannot cure
	// (the engine refused this message) and DNS list failures never hold.
	HoldOnFailure bool
	// MaxSize is how many bytes of a message are handed to the engines and
	// hashed for the cache (config "[spam] max_size"); default 1 MiB. A
	// longer message is cut after its last line break before the limit;
	// each client may cut further to its own limit.
	MaxSize int64
	// SkipOversize leaves a message larger than MaxSize unchecked instead
	// of checking its first MaxSize bytes (config "[spam] oversize", value
	// skip; MailScanner's "Max Spam Check Size": big mail is rarely spam).
	// Its Message.Spam.Unchecked says why.
	SkipOversize bool
	// DefinitelyNotSpam and DefinitelySpam decide, before the lists and
	// the engines, that a message is ham or spam (high-scoring spam with
	// BlacklistHigh) ([spam] definitely_not_spam and definitely_spam,
	// often rulesets); nil: never.
	DefinitelyNotSpam, DefinitelySpam func(m *message.Message) bool
}

// SpamdClient is what the stage needs of spamd.
type SpamdClient interface {
	Report(ctx context.Context, msg io.Reader) (*spamd.Result, error)
}

// RspamdClient is what the stage needs of rspamd.
type RspamdClient interface {
	Check(ctx context.Context, req rspamd.Request, msg io.Reader) (*rspamd.Result, error)
}

// ListChecker is what the stage needs of the DNS block lists.
type ListChecker interface {
	Check(ctx context.Context, q dnsbl.Query) *dnsbl.Result
}

var (
	_ SpamdClient  = (*spamd.Client)(nil)
	_ RspamdClient = (*rspamd.Client)(nil)
	_ ListChecker  = (*dnsbl.Checker)(nil)
)

// Engines are the configured engine clients; nil means not configured.
// They must match Options.Spam.Engines.
type Engines struct {
	Spamd  SpamdClient  // usually *spamd.Client
	Rspamd RspamdClient // usually *rspamd.Client
	DNSBL  ListChecker  // usually *dnsbl.Checker
}

// Sentinel errors.
var (
	// ErrUnavailable wraps the error Check returns when an engine could not
	// give a verdict and Options.HoldOnFailure is set.
	ErrUnavailable = errors.New("spam stage: engine unavailable")
	// ErrPaused is the cause recorded for an engine skipped because it is
	// paused after repeated timeouts.
	ErrPaused = errors.New("spam stage: engine paused after repeated timeouts")
)

// Display names of the engines in SpamResult.Engines and the headers.
const (
	NameSpamAssassin = "SpamAssassin"
	NameRspamd       = "rspamd"
	NameDNSBL        = "DNSBL"
)

// Stage is the spam check. It is safe for concurrent use.
type Stage struct {
	opts        Options
	c           *spam.Compiled
	engines     []*engine
	log         logrus.FieldLogger
	now         func() time.Time
	spamdCache  *spam.Cache[*spamd.Result]
	rspamdCache *spam.Cache[*rspamd.Result]
	states      *states
}

// New checks opts against engines and returns the stage. clock is the time
// source for the cache, engine health and state timestamps (nil: time.Now).
func New(opts Options, e Engines, log logrus.FieldLogger, clock func() time.Time) (*Stage, error) {
	c, err := opts.Spam.Compile()
	if err != nil {
		return nil, fmt.Errorf("spam stage options: %w", err)
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxSize < 0 {
		return nil, errors.New("spam stage options: negative max_size")
	}
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		return nil, errors.New("spam stage: no logger")
	}
	s := &Stage{opts: opts, c: c, log: log, now: clock, states: newStates(log, clock)}
	cacheOpts := spam.CacheOptions{TTL: opts.Spam.CacheTTL, MaxEntries: opts.Spam.CacheMaxEntries, Now: clock}
	s.spamdCache = spam.NewCache[*spamd.Result](cacheOpts)
	s.rspamdCache = spam.NewCache[*rspamd.Result](cacheOpts)
	if err := s.addEngines(e); err != nil {
		return nil, err
	}
	return s, nil
}

// addEngines builds a runner for each configured engine and checks that
// the clients given are the engines listed.
func (s *Stage) addEngines(e Engines) error {
	given := map[string]bool{
		spam.EngineSpamd:  !isNil(e.Spamd),
		spam.EngineRspamd: !isNil(e.Rspamd),
		spam.EngineDNSBL:  !isNil(e.DNSBL),
	}
	listed := map[string]bool{}
	var errs []error
	for _, name := range s.opts.Spam.Engines {
		listed[name] = true
		if !given[name] {
			errs = append(errs, fmt.Errorf("spam stage engine %s: listed in engines but no client given", name))
		}
	}
	for _, name := range []string{spam.EngineSpamd, spam.EngineRspamd, spam.EngineDNSBL} {
		if given[name] && !listed[name] {
			errs = append(errs, fmt.Errorf("spam stage engine %s: client given but not listed in engines", name))
		}
	}
	if len(listed) == 0 {
		errs = append(errs, errors.New("spam stage: no engine configured"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, name := range s.opts.Spam.Engines { // config order, for stable output
		var run runFunc
		switch name {
		case spam.EngineSpamd:
			run = s.spamdRunner(e.Spamd)
		case spam.EngineRspamd:
			run = s.rspamdRunner(e.Rspamd)
		default:
			run = s.dnsblRunner(e.DNSBL)
		}
		s.engines = append(s.engines, s.newEngine(name, run))
	}
	return nil
}

// isNil reports whether v is nil or a nil pointer of a known client type,
// so that a nil *spamd.Client in the interface counts as not configured.
func isNil(v any) bool {
	switch c := v.(type) {
	case nil:
		return true
	case *spamd.Client:
		return c == nil
	case *rspamd.Client:
		return c == nil
	case *dnsbl.Checker:
		return c == nil
	}
	return false
}

// Name is the stage's name in logs and metrics.
func (s *Stage) Name() string { return "spam" }

// Check runs the spam checks on m and sets m.Spam. It returns an error
// (wrapping ErrUnavailable) only when Options.HoldOnFailure is set and an
// engine could not give a verdict, or when ctx ended.
func (s *Stage) Check(ctx context.Context, m *message.Message) error {
	env := m.Envelope
	pol := s.c.Policy
	switch {
	case s.opts.DefinitelyNotSpam != nil && s.opts.DefinitelyNotSpam(m):
		m.Spam = &message.SpamResult{Level: spam.Ham, Whitelisted: true}
		return nil
	case s.opts.DefinitelySpam != nil && s.opts.DefinitelySpam(m):
		v := spam.Decide(spam.Input{Blacklisted: true}, pol)
		m.Spam = &message.SpamResult{Level: v.Level, Blacklisted: true}
		return nil
	case s.c.Whitelist.Match(env.Sender, env.ClientIP):
		m.Spam = &message.SpamResult{Level: spam.Ham, Required: pol.Required, Whitelisted: true}
		return nil
	case s.c.Blacklist.Match(env.Sender, env.ClientIP):
		// Like MailScanner, a blacklisted message is spam without asking
		// the engines.
		v := spam.Decide(spam.Input{Blacklisted: true}, pol)
		m.Spam = &message.SpamResult{Level: v.Level, Required: pol.Required, Blacklisted: true}
		return nil
	}
	if size := messageSize(m); s.opts.SkipOversize && size > s.opts.MaxSize {
		m.Spam = &message.SpamResult{Required: pol.Required,
			Unchecked: fmt.Sprintf("too large to check: %d bytes, spam.max_size %d", size, s.opts.MaxSize)}
		return nil
	}
	j := s.newJob(m)
	outs := s.runAll(ctx, j)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spam check %s: %w", m.ID, err)
	}
	res, hold := s.combine(outs)
	if hold != nil && s.opts.HoldOnFailure {
		return fmt.Errorf("spam check %s: %w: %w", m.ID, ErrUnavailable, hold)
	}
	m.Spam = res
	return nil
}

// job is one message as the engines see it.
type job struct {
	sent      []byte   // the bytes handed to the engines
	key       spam.Key // cache key of sent
	rspamdKey spam.Key // sent plus what rspamd is told of the envelope
	req       rspamd.Request
	query     dnsbl.Query
}

func (s *Stage) newJob(m *message.Message) *job {
	env := m.Envelope
	j := &job{
		sent: messageHead(m, s.opts.MaxSize),
		req: rspamd.Request{IP: env.ClientIP, Helo: env.Helo, From: env.Sender, Rcpt: env.Recipients,
			QueueID: m.ID},
		query: dnsbl.Query{IP: env.ClientIP, Sender: env.Sender, Authenticated: env.Auth},
	}
	if env.Auth {
		j.req.User = env.Sender
	}
	req := s.c.Policy.Required
	j.key = spam.KeyOf(j.sent, req)
	// rspamd's verdict depends on the envelope too (IP, HELO, sender), but
	// not on the recipients: copies of one mail split per recipient share it.
	extra := fmt.Sprintf("\x00%s\x00%s\x00%s\x00%s", env.ClientIP, env.Helo, env.Sender, j.req.User)
	j.rspamdKey = spam.KeyOf(append(j.key[:], extra...), req)
	return j
}

// messageHead returns the message as sent to the engines: a Return-Path
// with the envelope sender when the header has none (so SpamAssassin's SPF
// checks see it), the header, the blank line and the body, cut after the
// last line break within max bytes.
func messageHead(m *message.Message, max int64) []byte {
	nl := "\n"
	if bytes.Contains(m.Header, []byte("\r\n")) {
		nl = "\r\n"
	}
	var b bytes.Buffer
	b.Grow(int(min(max+1, int64(len(m.Header)+len(m.Body)+300))))
	if rp := returnPath(m.Header, m.Envelope.Sender); rp != "" {
		b.WriteString("Return-Path: <" + rp + ">" + nl)
	}
	b.Write(m.Header)
	if len(m.Header) > 0 && !bytes.HasSuffix(m.Header, []byte("\n")) {
		b.WriteString(nl)
	}
	b.WriteString(nl)
	room := max - int64(b.Len())
	if room < 0 {
		room = 0
	}
	body := m.Body
	if int64(len(body)) > room {
		body = body[:room+1] // one byte more tells readHead-style cutting that it was cut
	}
	b.Write(body)
	out := b.Bytes()
	if int64(len(out)) > max {
		out = out[:max]
		if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
			out = out[:i+1]
		}
	}
	return out
}

// returnPath returns the sender to put in a Return-Path field, or "" when
// the header has one already or the sender is empty or unsafe in a header.
func returnPath(header []byte, sender string) string {
	sender = strings.TrimSuffix(strings.TrimPrefix(sender, "<"), ">")
	if sender == "" || len(sender) > 254 || strings.ContainsFunc(sender, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' }) {
		return ""
	}
	for _, f := range message.HeaderFields(header) {
		if strings.EqualFold(f.Name, "Return-Path") {
			return ""
		}
	}
	return sender
}

// clip bounds s for Unchecked and logs.
func clip(s string) string {
	if len(s) <= maxReason {
		return s
	}
	return s[:maxReason] + "..."
}

// messageSize is the size of the whole message.
func messageSize(m *message.Message) int64 {
	if m.Size > 0 {
		return m.Size
	}
	return int64(len(m.Header) + 1 + len(m.Body))
}
