// Package clamd is a client for the ClamAV daemon: PING, VERSION, STATS and
// INSTREAM over its unix socket or TCP port, with a per-scan timeout and a
// limit on concurrent scans.
//
// Scans run on IDSESSION connections kept open between scans when
// Options.Sessions is set (see session.go): on a busy server that saves a
// connect, an accept and a close per scan, and the TIME_WAIT socket that
// each closed TCP connection leaves behind. Otherwise, and for PING,
// VERSION and STATS, each command has a connection of its own, which clamd
// closes after answering. Concurrency is bounded by a semaphore of
// MaxConnections slots, sized by default to clamd's own thread count so
// that scans wait in qscan (under their timeout) rather than in clamd's
// queue.
package clamd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

// Defaults for Options.
const (
	DefaultAddress   = "127.0.0.1:3310"
	DefaultTimeout   = 60 * time.Second
	DefaultMaxStream = 25 << 20 // clamd's default StreamMaxLength
	DefaultChunkSize = 64 << 10
	DefaultMaxReply  = 64 << 10
	// maxAskedConnections caps the slot count taken from clamd's STATS, in
	// case clamd is configured (or answers) with something absurd.
	maxAskedConnections = 256
	// clamdDefaultMaxThreads is clamd's default MaxThreads, assumed when
	// STATS gives no answer we can use.
	clamdDefaultMaxThreads = 10
)

// Options configures a Client ([virus.clamd] in qscan.toml).
type Options struct {
	// Socket is clamd's unix socket path (LocalSocket). Set Socket or
	// Address, not both.
	Socket string `toml:"socket"`
	// Address is clamd's TCP address (TCPAddr:TCPSocket); default
	// DefaultAddress when Socket is empty too.
	Address string `toml:"address"`
	// Timeout bounds one whole command, from waiting for a slot to the
	// answer; default 60 s.
	Timeout time.Duration `toml:"timeout"`
	// MaxConnections bounds concurrent scans; 0 (default) asks clamd (STATS:
	// THREADS max) on first use.
	MaxConnections int `toml:"max_connections"`
	// MaxStream is the largest content sent to clamd; larger content gives a
	// Result with LimitExceeded, as clamd itself would answer. Default 25 MiB,
	// clamd's default StreamMaxLength. Keep it <= clamd's StreamMaxLength.
	MaxStream int64 `toml:"max_stream"`
	// ChunkSize is the INSTREAM chunk length; default 64 KiB.
	ChunkSize int `toml:"chunk_size"`
	// MaxReply bounds the bytes read of one answer; default 64 KiB.
	MaxReply int `toml:"max_reply"`
	// Sessions keeps scan connections open between scans (IDSESSION).
	Sessions bool `toml:"sessions"`
}

// Client talks to one clamd. It is safe for concurrent use.
type Client struct {
	network, addr string
	opts          Options

	mu      sync.Mutex
	sem     chan struct{} // nil until the slot count is known
	idle    []*session    // open sessions not in use (Options.Sessions)
	idleFor time.Duration // how long they stay open unused
	closed  bool
}

// New checks opts, fills in defaults and returns a client. It does not
// connect: clamd may start after qscan.
func New(opts Options) (*Client, error) {
	c := &Client{network: "tcp", addr: opts.Address, idleFor: sessionIdle}
	switch {
	case opts.Socket != "" && opts.Address != "":
		return nil, fmt.Errorf("clamd options: set socket or address, not both")
	case opts.Socket != "":
		c.network, c.addr = "unix", opts.Socket
	case opts.Address == "":
		c.addr = DefaultAddress
	}
	if opts.Timeout < 0 || opts.MaxConnections < 0 || opts.MaxStream < 0 || opts.ChunkSize < 0 || opts.MaxReply < 0 {
		return nil, fmt.Errorf("clamd options: negative limit in %+v", opts)
	}
	opts.Timeout = cmpOr(opts.Timeout, DefaultTimeout)
	opts.MaxStream = cmpOr(opts.MaxStream, DefaultMaxStream)
	opts.ChunkSize = cmpOr(opts.ChunkSize, DefaultChunkSize)
	opts.MaxReply = cmpOr(opts.MaxReply, DefaultMaxReply)
	c.opts = opts
	if opts.MaxConnections > 0 {
		c.sem = make(chan struct{}, opts.MaxConnections)
	}
	return c, nil
}

func cmpOr[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// String returns where the client connects, e.g. "unix:/run/clamd.ctl".
func (c *Client) String() string { return c.network + ":" + c.addr }

// Ping checks that clamd answers PONG.
func (c *Client) Ping(ctx context.Context) error {
	reply, err := c.command(ctx, "PING")
	if err != nil {
		return err
	}
	if trimTerminator(reply) != "PONG" {
		return unexpected("ping", reply)
	}
	return nil
}

// Version returns clamd's version line, e.g.
// "ClamAV 1.4.6/27000/Mon Jan  5 09:00:00 2026".
func (c *Client) Version(ctx context.Context) (string, error) {
	reply, err := c.command(ctx, "VERSION")
	if err != nil {
		return "", err
	}
	v := trimTerminator(reply)
	if len(v) < len("ClamAV ") || v[:len("ClamAV ")] != "ClamAV " || !printable(v) {
		return "", unexpected("version", reply)
	}
	return v, nil
}

// Stats returns clamd's thread and queue counts.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	reply, err := c.command(ctx, "STATS")
	if err != nil {
		return Stats{}, err
	}
	return ParseStats(reply)
}

// command sends a z-command without data and reads its NUL-terminated answer.
func (c *Client) command(ctx context.Context, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	conn, err := c.dial(ctx, cmd)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("z" + cmd + "\x00")); err != nil {
		return "", c.fail(ctx, cmd, err)
	}
	reply, err := c.readReply(conn)
	if err != nil {
		return "", c.fail(ctx, cmd, err)
	}
	return reply, nil
}

// dial connects and ties the connection's deadline to ctx, so that both the
// timeout and a cancellation interrupt blocked reads and writes.
func (c *Client) dial(ctx context.Context, op string) (net.Conn, error) {
	conn, err := c.connect(ctx, op)
	if err != nil {
		return nil, err
	}
	return &ctxConn{Conn: conn, stop: c.bind(ctx, conn)}, nil
}

// connect opens a connection to clamd.
func (c *Client) connect(ctx context.Context, op string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, c.fail(ctx, op, err)
	}
	return conn, nil
}

// bind sets conn's deadline to ctx's and cuts conn's I/O short when ctx
// ends first. stop unbinds; it returns false when ctx had already cut the
// I/O (the connection is then unusable).
func (c *Client) bind(ctx context.Context, conn net.Conn) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
}

// ctxConn stops the deadline hook when closed.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// fail wraps err as a transient engine error, naming the context's error
// when the deadline or a cancellation is what interrupted the I/O.
func (c *Client) fail(ctx context.Context, op string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection deadline is the context's and may fire a moment
		// before the context's own timer.
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return virus.Errorf(Name, "%s %s: %w", strings.ToLower(op), c, err)
}

// errReplyTooLong is returned when an answer exceeds MaxReply.
var errReplyTooLong = errors.New("answer too long")

// readReply reads one answer: up to the first NUL, or to EOF (clamd closes
// after answering), at most MaxReply bytes.
func (c *Client) readReply(conn net.Conn) (string, error) {
	br := bufio.NewReader(io.LimitReader(conn, int64(c.opts.MaxReply)+1))
	b, err := br.ReadBytes(0)
	if err == io.EOF && len(b) > 0 {
		err = nil
	}
	if len(b) > c.opts.MaxReply {
		return "", errReplyTooLong
	}
	if err == io.EOF {
		return "", io.ErrUnexpectedEOF // closed without a word
	}
	return string(b), err
}
