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

// instream sends the command, the chunks and the terminating empty chunk,
// then reads the answer. The command goes out with the first chunk and
// the terminator with the last: a message that fits in a chunk costs one
// write.
func (c *Client) instream(ctx context.Context, conn net.Conn, r io.Reader) (virus.Result, error) {
	clean := virus.Result{Engine: Name}
	const cmd = "zINSTREAM\x00"
	size := c.opts.ChunkSize
	if n, ok := remaining(r); ok && n < int64(size) {
		size = int(n)
	}
	buf := make([]byte, len(cmd)+4+size+4)
	off := copy(buf, cmd) // bytes of buf waiting to be written
	var sent int64
	for {
		n, rerr := io.ReadFull(r, buf[off+4:off+4+size])
		end := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !end {
			return clean, virus.Errorf(Name, "instream %s: read content: %w", c, rerr)
		}
		if left, ok := remaining(r); ok && left == 0 {
			end = true
		}
		if n > 0 {
			if sent+int64(n) > c.opts.MaxStream {
				// Closing without the terminator makes clamd drop the stream.
				return virus.Result{Engine: Name, LimitExceeded: true}, nil
			}
			binary.BigEndian.PutUint32(buf[off:], uint32(n))
			off += 4 + n
			sent += int64(n)
		}
		if end {
			off += copy(buf[off:], []byte{0, 0, 0, 0})
		}
		if _, err := conn.Write(buf[:off]); err != nil {
			return c.afterWriteError(ctx, conn, err)
		}
		if end {
			break
		}
		off = 0
	}
	reply, err := c.readReply(conn)
	if err != nil {
		return clean, c.fail(ctx, "INSTREAM", err)
	}
	return ParseScanReply(reply)
}

// afterWriteError handles a failed write: clamd answers "INSTREAM size limit
// exceeded" and closes while we are still sending, so a write error may hide
// an answer. If one can be read it wins; otherwise the write error is
// returned.
func (c *Client) afterWriteError(ctx context.Context, conn net.Conn, werr error) (virus.Result, error) {
	if ctx.Err() == nil {
		if reply, err := c.readReply(conn); err == nil {
			return ParseScanReply(reply)
		}
	}
	return virus.Result{Engine: Name}, c.fail(ctx, "INSTREAM", werr)
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
