// Package reinject hands scanned messages back to the MTA after qscan's
// SMTP content filter (Postfix's 127.0.0.1:10025 listener): one SMTP
// transaction per message with the original envelope and ESMTP parameters
// (DSN NOTIFY/ORCPT/RET/ENVID, SIZE, BODY, SMTPUTF8, and XFORWARD when the
// server offers it), over a pool of connections kept open across a batch.
// It reports per recipient, and builds the DSN for rejected recipients.
// It uses github.com/emersion/go-smtp's client and knows nothing of
// scanning.
package reinject

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/spool"
)

// Options configure a Client. Zero values get the defaults named.
type Options struct {
	// Addr is the downstream: "127.0.0.1:10025", "[::1]:10025" or
	// "unix:/path".
	Addr string
	// Connections bounds the connections open at once (and so the
	// messages sent in parallel); default 4.
	Connections int
	// Helo is the EHLO name; default "localhost".
	Helo string
	// DialTimeout (default 30s), CommandTimeout (each command's reply and
	// each write, default 5m), DataTimeout (the reply to the final dot,
	// default 10m).
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	// IdleTimeout closes a pooled connection unused for that long
	// instead of reusing it; default 60s (Postfix's smtpd drops idle
	// clients after 300s).
	IdleTimeout time.Duration
	// Clock is the time source for idle checks; default time.Now.
	Clock func() time.Time
	// Log gets a warning when the downstream accepts a connection but
	// does not greet (once per Client); nil: none.
	Log logrus.FieldLogger
}

func (o *Options) defaults() {
	if o.Connections <= 0 {
		o.Connections = 4
	}
	if o.Helo == "" {
		o.Helo = "localhost"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 30 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// ParseAddr splits a downstream address into network and address.
func ParseAddr(s string) (network, addr string, err error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if !strings.HasPrefix(p, "/") {
			return "", "", fmt.Errorf("reinject address %q: a unix socket needs an absolute path", s)
		}
		return "unix", p, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", "", fmt.Errorf("reinject address %q: %v (use host:port or unix:/path)", s, err)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return "", "", fmt.Errorf("reinject address %q: %q is not an IP address", s, host)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", "", fmt.Errorf("reinject address %q: bad port %q", s, port)
	}
	return "tcp", s, nil
}

// Message is one message to re-inject.
type Message struct {
	// Env gives the reverse path, the recipients (those to deliver to)
	// and the parameters.
	Env *spool.Envelope
	// Data is the whole message, header and body, with LF or CRLF line
	// ends and no dot-stuffing (as the spool stores it).
	Data io.Reader
	// Size is the message size for SIZE= (Data's bytes, each LF counted
	// as CRLF); 0 sends Env.Size when set, else no SIZE.
	Size int64
}

// Client is a pool of downstream connections. Safe for concurrent use.
//
// A message goes out on whichever connection is free first: an idle one,
// or one dialed because every open one is busy (at most Connections). A
// dial that gets no greeting does not hold a message up while other
// connections work: the message takes the first connection that comes
// free. Postfix's re-injection smtpd serves at most its process limit of
// connections and leaves the rest waiting in the listen queue without a
// greeting; those dials give up after DialTimeout, are logged (Warn), and
// the client goes on with the connections it has.
type Client struct {
	o       Options
	network string
	addr    string
	slots   chan struct{} // a token per connection open or being dialed
	free    chan *pconn   // idle connections

	mu     sync.Mutex
	closed bool
	warned bool
}

// New returns a Client; it connects on demand.
func New(o Options) (*Client, error) {
	o.defaults()
	network, addr, err := ParseAddr(o.Addr)
	if err != nil {
		return nil, err
	}
	return &Client{o: o, network: network, addr: addr, slots: make(chan struct{}, o.Connections),
		free: make(chan *pconn, o.Connections)}, nil
}

// pconn is one pooled connection.
type pconn struct {
	c    *smtp.Client
	w    *cconn
	last time.Time
	used bool // it carried a transaction before
}

// dialing is a dial started for one Send, which may take another
// connection that comes free first: then the new one goes to the pool.
type dialing struct {
	mu   sync.Mutex
	done chan dialResult // buffered: the result, while the Send waits
	gone bool            // the Send took another connection
}

type dialResult struct {
	pc  *pconn
	err error
}

// dial connects and says EHLO, the greeting and EHLO bounded by
// DialTimeout.
func (c *Client) dial() (*pconn, error) {
	nc, err := net.DialTimeout(c.network, c.addr, c.o.DialTimeout)
	if err != nil {
		return nil, err
	}
	w := &cconn{Conn: nc, timeout: c.o.CommandTimeout}
	nc.SetDeadline(time.Now().Add(c.o.DialTimeout))
	sc := smtp.NewClient(w)
	sc.CommandTimeout = c.o.DialTimeout
	sc.SubmissionTimeout = c.o.DataTimeout
	if err := sc.Hello(c.o.Helo); err != nil {
		sc.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &greetingTimeout{addr: c.addr, wait: c.o.DialTimeout, err: err}
		}
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	sc.CommandTimeout = c.o.CommandTimeout
	return &pconn{c: sc, w: w}, nil
}

// greetingTimeout: the connection was accepted but no greeting came.
type greetingTimeout struct {
	addr string
	wait time.Duration
	err  error
}

func (e *greetingTimeout) Error() string {
	return fmt.Sprintf("no greeting from %s within %v: more connections than that listener serves at once? (lower [smtp] reinject_connections or raise its process limit): %v", e.addr, e.wait, e.err)
}

func (e *greetingTimeout) Unwrap() error { return e.err }

// get returns a connection for one transaction: the first to come free,
// or one it dials (one dial at a time) while none is free and fewer than
// Connections are open; reused says whether it served before. A failed
// dial is the answer when no other connection is open; otherwise the
// Send waits for one of those, dialing again after DialTimeout.
func (c *Client) get(ctx context.Context) (pc *pconn, reused bool, err error) {
	var d *dialing
	var redial <-chan time.Time // after a failed dial, when to try again
	for {
		select {
		case pc := <-c.free:
			if c.usable(pc) {
				c.abandon(d)
				return pc, pc.used, nil
			}
			continue
		default:
		}
		var slots chan struct{}
		var done chan dialResult
		if d != nil {
			done = d.done
		} else if redial == nil {
			slots = c.slots
		}
		select {
		case pc := <-c.free:
			if c.usable(pc) {
				c.abandon(d)
				return pc, pc.used, nil
			}
		case slots <- struct{}{}:
			d = &dialing{done: make(chan dialResult, 1)}
			go c.open(d)
		case r := <-done:
			d = nil
			if r.err == nil {
				return r.pc, false, nil
			}
			if len(c.slots) == 0 {
				return nil, false, r.err
			}
			// Wait for one of the open connections, and dial again
			// after a while (they may all go away).
			redial = time.After(c.o.DialTimeout)
		case <-redial:
			redial = nil
		case <-ctx.Done():
			c.abandon(d)
			return nil, false, ctx.Err()
		}
	}
}

// usable: a connection idle for less than IdleTimeout (else it is closed).
func (c *Client) usable(pc *pconn) bool {
	if !pc.used || c.o.Clock().Sub(pc.last) < c.o.IdleTimeout {
		return true
	}
	c.drop(pc)
	return false
}

// abandon hands the connection d dials, if it comes, to the pool.
func (c *Client) abandon(d *dialing) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case r := <-d.done:
		if r.pc != nil {
			c.free <- r.pc
		}
	default:
		d.gone = true
	}
}

// open dials for the slot taken; a failure gives the slot back. The result
// goes to the Send that asked, or the connection to the pool when that
// Send took another.
func (c *Client) open(d *dialing) {
	pc, err := c.dial()
	if err != nil {
		<-c.slots
		var gt *greetingTimeout
		if errors.As(err, &gt) && c.o.Log != nil {
			c.mu.Lock()
			warn := !c.warned
			c.warned = true
			c.mu.Unlock()
			if warn {
				c.o.Log.Warnf("re-inject: %v", err)
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.gone {
		d.done <- dialResult{pc, err}
	} else if pc != nil {
		c.put(pc) // or closed, after Close
	}
}

// drop closes a connection and gives its slot back.
func (c *Client) drop(pc *pconn) {
	go pc.c.Close()
	<-c.slots
}

// put gives a connection back after a clean transaction.
func (c *Client) put(pc *pconn) {
	pc.last, pc.used = c.o.Clock(), true
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		pc.c.Quit()
		pc.c.Close()
		<-c.slots
		return
	}
	c.free <- pc
}

// Close says QUIT on the idle connections and closes them; Send must not
// be called afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	var errs []error
	for {
		select {
		case pc := <-c.free:
			if err := pc.c.Quit(); err != nil {
				errs = append(errs, err)
				pc.c.Close()
			}
			<-c.slots
		default:
			return errors.Join(errs...)
		}
	}
}

// Send delivers m downstream. It returns a Result (err == nil) when the
// message got past MAIL: see Result for what each list means. It returns
// a *TempError when nothing was delivered and everything should be tried
// again later, or a *PermError when the whole message was refused. When a
// reused connection turns out dead before MAIL was answered, Send tries
// again once on another. A lost reply to the final dot is a TempError
// although the downstream may have queued the message: the one duplicate
// window of SMTP.
func (c *Client) Send(ctx context.Context, m Message) (*Result, error) {
	if m.Env == nil || len(m.Env.Recipients) == 0 {
		return nil, &PermError{Stage: "MAIL", Reply: Reply{Code: 554, Enhanced: "5.1.3", Text: "no recipients"}}
	}
	for attempt := 0; ; attempt++ {
		pc, reused, err := c.get(ctx)
		if err != nil {
			return nil, c.connectError(err)
		}
		stop := context.AfterFunc(ctx, func() { pc.w.Conn.Close() })
		res, early, err := c.transaction(pc, m)
		stop()
		if err == nil || !early || !reused || attempt > 0 {
			return res, err
		}
		// A pooled connection the server had already dropped.
	}
}

// connectError: a downstream that cannot be reached or greets with an
// error is a set-up problem, never the message's: always temporary.
func (c *Client) connectError(err error) error {
	if r, ok := replyOf(err); ok {
		return &TempError{Stage: "connect", Reply: r, Err: err}
	}
	return &TempError{Stage: "connect", Err: err}
}
