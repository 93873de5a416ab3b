package clamd

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"

	"github.com/qscan/qscan/pkg/virus"
)

var (
	_ virus.Scanner = (*Client)(nil)
	_ virus.Prober  = (*Client)(nil)
)

// probeContent is what Probe asks clamd to scan.
const probeContent = "qscan engine probe\n"

// Probe scans a few bytes: clamd is back when it answers a scan, which a
// PONG does not prove.
func (c *Client) Probe(ctx context.Context) error {
	_, err := c.Scan(ctx, strings.NewReader(probeContent))
	return err
}

// Scan streams r to clamd with INSTREAM and returns its verdict.
//
// Content longer than MaxStream is not sent past the limit: Scan returns a
// Result with LimitExceeded (and no error), as clamd does when its own
// StreamMaxLength is exceeded. Every error wraps virus.ErrUnavailable.
func (c *Client) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	clean := virus.Result{Engine: Name}
	if n, ok := remaining(r); ok && n > c.opts.MaxStream {
		return virus.Result{Engine: Name, LimitExceeded: true}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	release, err := c.acquire(ctx)
	if err != nil {
		return clean, err
	}
	defer release()
	if c.opts.Sessions {
		return c.scanSession(ctx, r)
	}
	conn, err := c.dial(ctx, "INSTREAM")
	if err != nil {
		return clean, err
	}
	defer conn.Close()
	return c.instream(ctx, conn, r)
}

// remaining returns the unread length of readers that know it.
func remaining(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case interface{ Size() int64 }:
		return v.Size(), true
	}
	return 0, false
}

// instream scans r on a connection of its own.
func (c *Client) instream(ctx context.Context, conn net.Conn, r io.Reader) (virus.Result, error) {
	reply, over, err := c.exchange(ctx, conn, "zINSTREAM\x00", r)
	switch {
	case err != nil:
		return virus.Result{Engine: Name}, err
	case over:
		return virus.Result{Engine: Name, LimitExceeded: true}, nil
	}
	return ParseScanReply(reply)
}

// exchange sends the command prefix (INSTREAM, preceded by IDSESSION on a
// new session), r in chunks and the terminating empty chunk, then reads
// the answer. The command goes out with the first chunk and the
// terminator with the last: a message that fits in a chunk costs one
// write. over reports content longer than MaxStream, of which nothing
// past the limit was sent and no terminator: clamd drops such a stream
// when the connection closes.
//
// clamd answers "INSTREAM size limit exceeded" and closes while we are
// still sending, so a write error may hide an answer: if one can be read
// it wins.
func (c *Client) exchange(ctx context.Context, conn net.Conn, prefix string, r io.Reader) (reply string, over bool, err error) {
	size := c.opts.ChunkSize
	if n, ok := remaining(r); ok && n < int64(size) {
		size = int(n)
	}
	buf := make([]byte, len(prefix)+4+size+4)
	off := copy(buf, prefix) // bytes of buf waiting to be written
	var sent int64
	for {
		n, rerr := io.ReadFull(r, buf[off+4:off+4+size])
		end := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !end {
			return "", false, virus.Errorf(Name, "instream %s: read content: %w", c, rerr)
		}
		if left, ok := remaining(r); ok && left == 0 {
			end = true
		}
		if n > 0 {
			if sent+int64(n) > c.opts.MaxStream {
				return "", true, nil
			}
			binary.BigEndian.PutUint32(buf[off:], uint32(n))
			off += 4 + n
			sent += int64(n)
		}
		if end {
			off += copy(buf[off:], []byte{0, 0, 0, 0})
		}
		if _, werr := conn.Write(buf[:off]); werr != nil {
			if ctx.Err() == nil {
				if reply, err := c.readReply(conn); err == nil {
					return reply, false, nil
				}
			}
			return "", false, c.fail(ctx, "INSTREAM", werr)
		}
		if end {
			break
		}
		off = 0
	}
	reply, err = c.readReply(conn)
	if err != nil {
		return "", false, c.fail(ctx, "INSTREAM", err)
	}
	return reply, false, nil
}

// acquire waits for a connection slot, within ctx.
func (c *Client) acquire(ctx context.Context) (release func(), err error) {
	sem, err := c.slots(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, virus.Errorf(Name, "instream %s: waiting for a connection slot: %w", c, ctx.Err())
	}
}

// slots returns the semaphore, asking clamd for its thread count the first
// time when MaxConnections is 0. If clamd cannot be reached, the scan fails
// (it would anyway) and the next scan asks again; if clamd answers but not
// with usable STATS, its default MaxThreads is assumed.
func (c *Client) slots(ctx context.Context) (chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sem != nil {
		return c.sem, nil
	}
	reply, err := c.command(ctx, "STATS")
	if err != nil {
		return nil, err
	}
	n := clamdDefaultMaxThreads
	if st, err := ParseStats(reply); err == nil {
		n = min(st.ThreadsMax, maxAskedConnections)
	}
	c.sem = make(chan struct{}, n)
	return c.sem, nil
}

// MaxConnections returns the concurrent-scan limit, 0 while not yet known.
func (c *Client) MaxConnections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cap(c.sem)
}
