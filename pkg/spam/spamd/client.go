// Package spamd is a client for SpamAssassin's spamd daemon over the
// SPAMC/1.5 protocol (CHECK, SYMBOLS, REPORT and PING), and TELL, which
// teaches its learner that a message is spam or ham.
//
// The client sends at most Options.MaxSize bytes of a message. spamc itself
// skips a message that is larger than its limit and lets it through
// unchecked; a spammer then only has to pad a message to evade the check.
// Like MailScanner, this client instead sends the head of the message, cut
// at the last line boundary before the limit (so no half header line or
// half base64 line reaches SpamAssassin), and reports Result.Truncated.
// SpamAssassin's rules live mostly in the header and the first text part,
// which the head contains.
package spamd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/qscan/qscan/pkg/spam"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Command is a SPAMC request method.
type Command string

// The commands this client speaks. CHECK returns the verdict only, SYMBOLS
// adds the names of the rules that hit, REPORT adds the report text with
// the score of every rule.
const (
	Check   Command = "CHECK"
	Symbols Command = "SYMBOLS"
	Report  Command = "REPORT"
)

// Defaults for Options fields left zero.
const (
	DefaultAddress        = "127.0.0.1:783"
	DefaultTimeout        = 30 * time.Second
	DefaultMaxSize        = 256 << 10
	DefaultMaxConnections = 8
	DefaultMaxResponse    = 1 << 20
)

// Options configures a Client; it mirrors the [spam.spamd] config section.
type Options struct {
	// Address is spamd's TCP host:port (config "address"); default
	// "127.0.0.1:783". Ignored when Socket is set.
	Address string
	// Socket is the path of spamd's unix socket (config "socket").
	Socket string
	// Timeout bounds one whole exchange, including the wait for a free
	// connection slot (config "timeout"); default 30s.
	Timeout time.Duration
	// MaxSize is how many bytes of a message are sent (config "max_size");
	// default 256 KiB. See the package comment for how longer messages are
	// cut.
	MaxSize int64
	// MaxConnections bounds the simultaneous connections to spamd; default 8.
	MaxConnections int
	// MaxResponse bounds the body of spamd's answer (the report); default 1 MiB.
	MaxResponse int64
	// User is sent in the User header so spamd applies that user's
	// preferences; empty sends none.
	User string
}

// Client talks to one spamd. It is safe for concurrent use.
type Client struct {
	opts    Options
	network string
	addr    string
	sem     chan struct{}
	dialer  net.Dialer
}

// New returns a client for the spamd that opts describes, with defaults
// filled in.
func New(opts Options) (*Client, error) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.MaxResponse == 0 {
		opts.MaxResponse = DefaultMaxResponse
	}
	if opts.Timeout < 0 || opts.MaxSize < 0 || opts.MaxConnections < 0 || opts.MaxResponse < 0 {
		return nil, errors.New("spamd options: negative timeout, size or connection limit")
	}
	if strings.ContainsFunc(opts.User, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return nil, fmt.Errorf("spamd options: user %q contains spaces or control characters", opts.User)
	}
	c := &Client{opts: opts, network: "tcp", addr: opts.Address, sem: make(chan struct{}, opts.MaxConnections)}
	if opts.Socket != "" {
		c.network, c.addr = "unix", opts.Socket
	} else if c.addr == "" {
		c.addr = DefaultAddress
	}
	return c, nil
}

// Addr returns the address the client connects to.
func (c *Client) Addr() string { return c.addr }

// Check asks for the verdict only.
func (c *Client) Check(ctx context.Context, msg io.Reader) (*Result, error) {
	return c.Do(ctx, Check, msg)
}

// Symbols asks for the verdict and the names of the rules that hit.
func (c *Client) Symbols(ctx context.Context, msg io.Reader) (*Result, error) {
	return c.Do(ctx, Symbols, msg)
}

// Report asks for the verdict, the report text and the rules with scores.
func (c *Client) Report(ctx context.Context, msg io.Reader) (*Result, error) {
	return c.Do(ctx, Report, msg)
}

// Do sends the head of msg (see the package comment) with cmd and parses
// the answer. Errors read "spamd CMD ADDR: cause"; IsPermanent classifies
// them.
func (c *Client) Do(ctx context.Context, cmd Command, msg io.Reader) (*Result, error) {
	switch cmd {
	case Check, Symbols, Report:
	default:
		return nil, fmt.Errorf("spamd %s %s: unsupported command", cmd, c.addr)
	}
	body, truncated, err := spam.ReadHead(msg, c.opts.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("spamd %s %s: read message: %w", cmd, c.addr, err)
	}
	var req bytes.Buffer
	req.Grow(len(body) + 100)
	fmt.Fprintf(&req, "%s SPAMC/1.5\r\nContent-length: %d\r\n", cmd, len(body))
	if c.opts.User != "" {
		fmt.Fprintf(&req, "User: %s\r\n", c.opts.User)
	}
	req.WriteString("\r\n")
	req.Write(body)
	var res *Result
	err = c.exchange(ctx, req.Bytes(), func(r *bufio.Reader) error {
		var err error
		res, err = ParseResponse(r, cmd, c.opts.MaxResponse)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("spamd %s %s: %w", cmd, c.addr, err)
	}
	res.Truncated, res.Sent = truncated, len(body)
	return res, nil
}

// Ping checks that spamd answers ("PING SPAMC/1.5" → "SPAMD/1.5 0 PONG").
func (c *Client) Ping(ctx context.Context) error {
	err := c.exchange(ctx, []byte("PING SPAMC/1.5\r\n\r\n"), func(r *bufio.Reader) error {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[0], "SPAMD/") || f[2] != "PONG" {
			return fmt.Errorf("%w: ping answer %.40q", ErrMalformed, line)
		}
		if code, err := strconv.Atoi(f[1]); err != nil || code != 0 {
			return fmt.Errorf("%w: ping answer %.40q", ErrMalformed, line)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("spamd PING %s: %w", c.addr, err)
	}
	return nil
}

// exchange takes a connection slot, connects, writes req, half-closes and
// lets read parse the answer, all within Options.Timeout and ctx.
func (c *Client) exchange(ctx context.Context, req []byte, read func(*bufio.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	conn, err := c.dialer.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A cancelled context must unblock a read on a spamd that hangs.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return ctxErr(ctx, err)
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite() // spamd reads to Content-length; EOF only helps
	}
	if err := read(bufio.NewReader(conn)); err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}

// ctxErr puts the context's error in front when the context ended, and
// context.DeadlineExceeded in front of a connection deadline (which can
// fire a moment before the context notices), so that
// errors.Is(err, context.DeadlineExceeded) holds for every timeout.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return err
		}
		return fmt.Errorf("%w: %w", cerr, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
