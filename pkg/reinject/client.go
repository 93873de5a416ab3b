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
type Client struct {
	o       Options
	network string
	addr    string
	sem     chan struct{}

	mu     sync.Mutex
	idle   []*pconn
	closed bool
}

// New returns a Client; it connects on demand.
func New(o Options) (*Client, error) {
	o.defaults()
	network, addr, err := ParseAddr(o.Addr)
	if err != nil {
		return nil, err
	}
	return &Client{o: o, network: network, addr: addr, sem: make(chan struct{}, o.Connections)}, nil
}

// pconn is one pooled connection.
type pconn struct {
	c    *smtp.Client
	w    *cconn
	last time.Time
}

func (c *Client) dial() (*pconn, error) {
	nc, err := net.DialTimeout(c.network, c.addr, c.o.DialTimeout)
	if err != nil {
		return nil, err
	}
	w := &cconn{Conn: nc, timeout: c.o.CommandTimeout}
	sc := smtp.NewClient(w)
	sc.CommandTimeout = c.o.CommandTimeout
	sc.SubmissionTimeout = c.o.DataTimeout
	if err := sc.Hello(c.o.Helo); err != nil {
		sc.Close()
		return nil, err
	}
	return &pconn{c: sc, w: w}, nil
}

// get takes an idle connection that is fresh enough, or dials; reused
// says which.
func (c *Client) get() (pc *pconn, reused bool, err error) {
	now := c.o.Clock()
	c.mu.Lock()
	for len(c.idle) > 0 {
		pc = c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if now.Sub(pc.last) < c.o.IdleTimeout {
			c.mu.Unlock()
			return pc, true, nil
		}
		go pc.c.Close()
	}
	c.mu.Unlock()
	pc, err = c.dial()
	return pc, false, err
}

func (c *Client) put(pc *pconn) {
	pc.last = c.o.Clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		pc.c.Quit()
		pc.c.Close()
		return
	}
	c.idle = append(c.idle, pc)
}

// Close says QUIT on the idle connections and closes them; Send must not
// be called afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	var errs []error
	for _, pc := range idle {
		if err := pc.c.Quit(); err != nil {
			errs = append(errs, err)
			pc.c.Close()
		}
	}
	return errors.Join(errs...)
}

// Send delivers m downstream. It returns a Result (err == nil) when the
// message got past MAIL: see Result for what each list means. It returns
// a *TempError when nothing was delivered and everything should be tried
// again later, or a *PermError when the whole message was refused. When a
// reused connection turns out dead before MAIL was answered, Send dials a
// new one and tries again once. A lost reply to the final dot is a
// TempError although the downstream may have queued the message: the one
// duplicate window of SMTP.
func (c *Client) Send(ctx context.Context, m Message) (*Result, error) {
	if m.Env == nil || len(m.Env.Recipients) == 0 {
		return nil, &PermError{Stage: "MAIL", Reply: Reply{Code: 554, Enhanced: "5.1.3", Text: "no recipients"}}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &TempError{Stage: "connect", Err: ctx.Err()}
	}
	defer func() { <-c.sem }()
	for attempt := 0; ; attempt++ {
		pc, reused, err := c.get()
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
