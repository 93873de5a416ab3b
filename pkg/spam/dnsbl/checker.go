package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Resolver looks up A records; *net.Resolver satisfies it. Tests point a
// net.Resolver at a local DNS server.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Defaults for Options fields left zero.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxTimeouts = 5
	DefaultPause       = 10 * time.Minute
	DefaultMaxAnswers  = 16
)

// Options configures a Checker.
type Options struct {
	Lists []List
	// Timeout bounds all the queries for one message; default 10s.
	Timeout time.Duration
	// SkipAuthenticated skips every list for senders that authenticated
	// (MailScanner's "Spam List Skip If Authenticated"); default false.
	SkipAuthenticated bool
	// MaxTimeouts is how many consecutive timeouts pause a list; default 5.
	MaxTimeouts int
	// Pause is how long a list that keeps timing out is left out; default 10m.
	Pause time.Duration
	// MaxAnswers bounds the addresses kept from one answer; default 16.
	MaxAnswers int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnPause, when set, is called when a list is paused (paused true) or
	// taken back after its pause (paused false). It must not block.
	OnPause func(list string, paused bool, until time.Time)
}

// Query is what one message offers for lookups.
type Query struct {
	IP            netip.Addr // client address; invalid when unknown
	Sender        string     // envelope sender; "" for the null sender
	Authenticated bool
}

// Hit is one list that lists the message's address or domain.
type Hit struct {
	List    string
	Name    string       // the name that was looked up
	Answers []netip.Addr // the answers that mean "listed"
}

// Result is what the lists said about one message.
type Result struct {
	Hits     []Hit    // in the order of Options.Lists
	TimedOut []string // lists that did not answer in time
	Paused   []string // lists left out because they keep timing out
	Errors   []error  // other failures (SERVFAIL, refused ...), one per list
	Skipped  string   // why no address lookups were made, e.g. "private address"
}

// Listed returns the names of the lists that hit.
func (r *Result) Listed() []string {
	names := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		names[i] = h.List
	}
	return names
}

// Checker runs the lookups. It is safe for concurrent use.
type Checker struct {
	opts     Options
	resolver Resolver
	mu       sync.Mutex
	state    map[string]*listState
}

type listState struct {
	timeouts    int
	pausedUntil time.Time
}

// New returns a Checker for opts, with defaults filled in, after checking
// every list definition.
func New(opts Options, r Resolver) (*Checker, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxTimeouts <= 0 {
		opts.MaxTimeouts = DefaultMaxTimeouts
	}
	if opts.Pause <= 0 {
		opts.Pause = DefaultPause
	}
	if opts.MaxAnswers <= 0 {
		opts.MaxAnswers = DefaultMaxAnswers
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if r == nil {
		return nil, errors.New("dnsbl: no resolver")
	}
	var errs []error
	seen := make(map[string]bool)
	for i := range opts.Lists {
		l := &opts.Lists[i]
		errs = append(errs, l.Validate())
		if seen[l.Name] {
			errs = append(errs, fmt.Errorf("dnsbl list %s: defined twice", l.Name))
		}
		seen[l.Name] = true
		l.Zone, _ = normalizeDomain(l.Zone)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Checker{opts: opts, resolver: r, state: make(map[string]*listState)}
	for _, l := range opts.Lists {
		c.state[l.Name] = &listState{}
	}
	return c, nil
}

// job is one lookup to make.
type job struct {
	list *List
	name string
}

// outcome is what one job gave.
type outcome struct {
	hit      *Hit
	timedOut bool
	err      error
}

// Check looks the message's client address up in the IP lists and its
// sender domain in the domain lists, all in parallel, within
// Options.Timeout. Failures never make a hit.
func (c *Checker) Check(ctx context.Context, q Query) *Result {
	res := &Result{}
	if q.Authenticated && c.opts.SkipAuthenticated {
		res.Skipped = "authenticated sender"
		return res
	}
	ipWhy := skipAddr(q.IP)
	domain, domainOK := senderDomain(q.Sender)
	var jobs []job
	for i := range c.opts.Lists {
		l := &c.opts.Lists[i]
		switch {
		case l.Kind == KindIP && ipWhy == "":
			jobs = append(jobs, job{l, reverseIP(q.IP) + "." + l.Zone + "."})
		case l.Kind == KindDomain && domainOK:
			jobs = append(jobs, job{l, domain + "." + l.Zone + "."})
		default:
			continue
		}
		if !c.allow(l.Name) {
			res.Paused = append(res.Paused, l.Name)
			jobs = jobs[:len(jobs)-1]
		}
	}
	if ipWhy != "" {
		res.Skipped = ipWhy
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	outs := make([]outcome, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { outs[i] = c.lookup(ctx, j) })
	}
	wg.Wait()
	for i, o := range outs {
		name := jobs[i].list.Name
		c.record(name, o.timedOut)
		switch {
		case o.hit != nil:
			res.Hits = append(res.Hits, *o.hit)
		case o.timedOut:
			res.TimedOut = append(res.TimedOut, name)
		case o.err != nil:
			res.Errors = append(res.Errors, o.err)
		}
	}
	return res
}

// lookup makes one query. NXDOMAIN and "no A record" mean not listed.
func (c *Checker) lookup(ctx context.Context, j job) outcome {
	if j.list.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, j.list.Timeout)
		defer cancel()
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip4", j.name)
	if err != nil {
		var de *net.DNSError
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			return outcome{}
		case ctx.Err() != nil, errors.As(err, &de) && de.IsTimeout:
			return outcome{timedOut: true}
		}
		return outcome{err: fmt.Errorf("dnsbl lookup %s: %w", j.name, err)}
	}
	var listed []netip.Addr
	for _, a := range addrs {
		if j.list.listed(a) && len(listed) < c.opts.MaxAnswers {
			listed = append(listed, a.Unmap())
		}
	}
	if len(listed) == 0 {
		return outcome{}
	}
	slices.SortFunc(listed, netip.Addr.Compare)
	return outcome{hit: &Hit{List: j.list.Name, Name: j.name, Answers: listed}}
}

// allow reports whether list may be asked now, taking a list back once its
// pause is over.
func (c *Checker) allow(list string) bool {
	now := c.opts.Now()
	c.mu.Lock()
	st := c.state[list]
	if st.pausedUntil.IsZero() {
		c.mu.Unlock()
		return true
	}
	if now.Before(st.pausedUntil) {
		c.mu.Unlock()
		return false
	}
	st.pausedUntil, st.timeouts = time.Time{}, 0
	c.mu.Unlock()
	if c.opts.OnPause != nil {
		c.opts.OnPause(list, false, time.Time{})
	}
	return true
}

// record counts consecutive timeouts of list and pauses it at
// Options.MaxTimeouts; any answer resets the count.
func (c *Checker) record(list string, timedOut bool) {
	c.mu.Lock()
	st := c.state[list]
	if !timedOut {
		st.timeouts = 0
		c.mu.Unlock()
		return
	}
	st.timeouts++
	if st.timeouts < c.opts.MaxTimeouts || !st.pausedUntil.IsZero() {
		c.mu.Unlock()
		return
	}
	until := c.opts.Now().Add(c.opts.Pause)
	st.pausedUntil = until
	c.mu.Unlock()
	if c.opts.OnPause != nil {
		c.opts.OnPause(list, true, until)
	}
}

// Paused returns the lists that are paused now, with the end of their pause.
func (c *Checker) Paused() map[string]time.Time {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]time.Time)
	for name, st := range c.state {
		if now.Before(st.pausedUntil) {
			out[name] = st.pausedUntil
		}
	}
	return out
}
