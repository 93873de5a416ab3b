package clamd

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

// Sessions (Options.Sessions): a scan borrows an open IDSESSION connection
// instead of connecting anew. clamd numbers the answers of a session from
// 1 ("3: stream: OK"); a scan waits for its answer before the session is
// used again, so answers never interleave. A session goes back to the pool
// only after a clean verdict (OK or FOUND): any error, timeout, refused
// size or unexpected answer closes it, so a failure stays local to the
// scan that saw it, as with one connection per scan. Idle sessions are
// closed after sessionIdle (clamd keeps them open indefinitely) and, after
// a failure, all at once: clamd may have restarted under them.

// sessionIdle is how long an unused session stays open.
const sessionIdle = 5 * time.Second

// session is an open IDSESSION connection.
type session struct {
	conn net.Conn
	n    int         // commands sent so far
	idle *time.Timer // closes the session while it sits in the pool
}

// scanSession scans r on a pooled session. A reused session that turns
// out to have been closed before it answered is replaced by a fresh one
// and the scan sent again, when r can be rewound; nothing was scanned.
func (c *Client) scanSession(ctx context.Context, r io.Reader) (virus.Result, error) {
	seeker, seekable := r.(io.Seeker)
	var start int64
	if seekable {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			seekable = false
		}
	}
	s, reused, err := c.takeSession(ctx)
	if err != nil {
		return virus.Result{Engine: Name}, err
	}
	res, stale, err := c.sessionScan(ctx, s, r)
	if stale && reused && seekable && ctx.Err() == nil {
		if _, serr := seeker.Seek(start, io.SeekStart); serr == nil {
			if s, err = c.newSession(ctx); err != nil {
				return virus.Result{Engine: Name}, err
			}
			res, _, err = c.sessionScan(ctx, s, r)
		}
	}
	return res, err
}

// sessionScan sends one INSTREAM on s and reads its answer. stale reports
// a session closed under us before any answer: nothing was scanned.
func (c *Client) sessionScan(ctx context.Context, s *session, r io.Reader) (res virus.Result, stale bool, err error) {
	stop := c.bind(ctx, s.conn)
	prefix := "zINSTREAM\x00"
	if s.n == 0 {
		prefix = "zIDSESSION\x00" + prefix
	}
	s.n++
	reply, over, err := c.exchange(ctx, s.conn, prefix, r)
	keep := false
	defer func() {
		if stopped := stop(); keep && stopped {
			c.putSession(s)
			return
		}
		s.conn.Close()
		if err != nil {
			c.dropIdle() // clamd may be gone or stuck: its other sessions too
		}
	}()
	switch {
	case err != nil:
		return virus.Result{Engine: Name}, isClosed(err), err
	case over:
		return virus.Result{Engine: Name, LimitExceeded: true}, false, nil
	}
	id, answer, ok := strings.Cut(reply, ": ")
	if !ok || !strings.HasSuffix(reply, "\x00") || id != strconv.Itoa(s.n) {
		// Not the answer to this command, or cut short: the session is lost.
		return virus.Result{Engine: Name}, false, unexpected("instream", reply)
	}
	res, err = ParseScanReply(answer)
	keep = err == nil && !res.LimitExceeded
	return res, false, err
}

// isClosed reports whether err says the peer had closed the connection:
// no answer at all, a reset, a broken pipe.
func isClosed(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// takeSession returns an idle session that is still open (reused), or a
// new one.
func (c *Client) takeSession(ctx context.Context) (s *session, reused bool, err error) {
	for {
		c.mu.Lock()
		if len(c.idle) == 0 {
			c.mu.Unlock()
			s, err := c.newSession(ctx)
			return s, false, err
		}
		s := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		c.mu.Unlock()
		s.idle.Stop()
		if open(s.conn) {
			return s, true, nil
		}
		s.conn.Close()
	}
}

// newSession connects; the IDSESSION command goes out with the first scan.
func (c *Client) newSession(ctx context.Context) (*session, error) {
	conn, err := c.connect(ctx, "INSTREAM")
	if err != nil {
		return nil, err
	}
	return &session{conn: conn}, nil
}

// putSession returns s to the pool, or closes it if the client is closed.
func (c *Client) putSession(s *session) {
	s.conn.SetDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		s.conn.Close()
		return
	}
	c.idle = append(c.idle, s)
	if s.idle == nil {
		s.idle = time.AfterFunc(c.idleFor, func() { c.expire(s) })
	} else {
		s.idle.Reset(c.idleFor)
	}
}

// expire closes s if it is still idle.
func (c *Client) expire(s *session) {
	c.mu.Lock()
	i := slices.Index(c.idle, s)
	if i >= 0 {
		c.idle = slices.Delete(c.idle, i, i+1)
	}
	c.mu.Unlock()
	if i >= 0 {
		s.conn.Close()
	}
}

// dropIdle closes every idle session.
func (c *Client) dropIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, s := range idle {
		s.idle.Stop()
		s.conn.Close()
	}
}

// Close closes the idle sessions; sessions in use close when their scan
// ends. The client must not be used afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.dropIdle()
	return nil
}

// open tells whether an idle connection is still usable: clamd has not
// closed it (a read would see EOF) and has sent nothing unasked. It peeks
// without blocking and without consuming.
func open(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	usable := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		usable = errors.Is(rerr, syscall.EAGAIN) // nothing to read: open and quiet
		return true
	})
	return err == nil && usable
}
