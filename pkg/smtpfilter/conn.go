package smtpfilter

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/spool"
)

// go-smtp (v0.26) has no XFORWARD: it answers "500 unrecognized" and does
// not advertise it, so Postfix would never send it. conn sits between the
// socket and go-smtp and does three small things at the line level:
//
//   - it answers XFORWARD commands itself (250, 501 or 503) and records
//     the attributes for the session, so go-smtp never sees them;
//   - it adds "250-XFORWARD NAME ADDR ..." to the EHLO/LHLO reply, and
//     drops CHUNKING (Postfix's client does not use BDAT; DATA is the one
//     path the filter is tested on);
//   - it gives go-smtp at most one command line per Read, so that a reply
//     it writes for XFORWARD goes out after go-smtp's reply to the command
//     before it (PIPELINING keeps its order), and it follows the DATA
//     stream (after go-smtp's "354", up to CRLF.CRLF with go-smtp's own
//     state machine) and BDAT chunks so that message bytes are never read
//     as commands.
//
// It also applies the timeouts: CommandTimeout to every read of a command
// line, DataTimeout to the whole of one DATA transfer.

// xforwardReply is the EHLO line that announces XFORWARD.
const xforwardReply = "250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE LOGIN\r\n"

// maxCommandLine bounds a command line the wrapper looks at; longer input
// is passed to go-smtp, whose own line limit refuses it.
const maxCommandLine = 4096

// maxXForwardValue bounds one decoded XFORWARD value (Postfix sends at
// most 255 bytes of a host name).
const maxXForwardValue = 255

const (
	modeCommand = iota
	modeData
	modeChunk
)

// go-smtp's end-of-data states (data.go), so both agree where DATA ends.
const (
	dBeginLine = iota
	dDot
	dDotCR
	dCR
	dData
	dEOF
)

// connState is what the wrapper and the session share.
type connState struct {
	mu       sync.Mutex
	xf       spool.XForward
	inTx     bool   // between MAIL and the end of the transaction
	protocol string // "SMTP" after HELO, "ESMTP" after EHLO, "LMTP" after LHLO
}

func (s *connState) reset() {
	s.mu.Lock()
	s.xf, s.inTx = spool.XForward{}, false
	s.mu.Unlock()
}

type conn struct {
	net.Conn
	st          *connState
	cmdTimeout  time.Duration
	dataTimeout time.Duration
	release     func() // frees the connection slot; once

	// read side: go-smtp reads from one goroutine at a time
	rbuf      []byte
	rerr      error
	mode      int
	dstate    int
	deadline  time.Time // of the current DATA transfer
	chunkLeft int64
	lineLeft  int   // bytes of a passed command line not yet given
	nextChunk int64 // BDAT size: chunk mode once its line is given

	mu       sync.Mutex // guards the flags the write side sets
	saw354   bool
	ehlo     bool // the next reply is the one to EHLO/LHLO
	wbuf     []byte
	wmu      sync.Mutex // one writer at a time on the socket
	closeMu  sync.Once
	closeErr error
}

func (c *conn) Close() error {
	c.closeMu.Do(func() {
		c.closeErr = c.Conn.Close()
		if c.release != nil {
			c.release()
		}
	})
	return c.closeErr
}

// fill reads more bytes from the socket into rbuf.
func (c *conn) fill(deadline time.Time) {
	if c.rerr != nil {
		return
	}
	c.Conn.SetReadDeadline(deadline)
	var tmp [4096]byte
	n, err := c.Conn.Read(tmp[:])
	c.rbuf = append(c.rbuf, tmp[:n]...)
	c.rerr = err
}

// give copies up to n bytes of rbuf to p.
func (c *conn) give(p []byte, n int) int {
	n = copy(p, c.rbuf[:n])
	c.rbuf = c.rbuf[n:]
	if len(c.rbuf) == 0 {
		c.rbuf = nil
	}
	return n
}

func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	if c.saw354 {
		c.saw354 = false
		c.mode, c.dstate = modeData, dBeginLine
		c.deadline = time.Now().Add(c.dataTimeout)
	}
	c.mu.Unlock()
	switch c.mode {
	case modeData:
		return c.readData(p)
	case modeChunk:
		return c.readChunk(p)
	}
	return c.readCommand(p)
}

func (c *conn) readData(p []byte) (int, error) {
	if len(c.rbuf) == 0 {
		c.fill(c.deadline)
		if len(c.rbuf) == 0 {
			return 0, c.rerr
		}
	}
	n := min(len(p), len(c.rbuf))
	for i := 0; i < n; i++ {
		c.dstate = nextData(c.dstate, c.rbuf[i])
		if c.dstate == dEOF {
			n = i + 1
			c.mode = modeCommand
			break
		}
	}
	return c.give(p, n), nil
}

// nextData is go-smtp's dataReader state machine.
func nextData(s int, b byte) int {
	switch s {
	case dBeginLine:
		switch b {
		case '.':
			return dDot
		case '\r':
			return dCR
		}
		return dData
	case dDot:
		if b == '\r' {
			return dDotCR
		}
		return dData
	case dDotCR:
		if b == '\n' {
			return dEOF
		}
		return dData
	case dCR:
		if b == '\n' {
			return dBeginLine
		}
		return dData
	default:
		if b == '\r' {
			return dCR
		}
		return dData
	}
}

func (c *conn) readChunk(p []byte) (int, error) {
	if len(c.rbuf) == 0 {
		c.fill(time.Now().Add(c.dataTimeout))
		if len(c.rbuf) == 0 {
			return 0, c.rerr
		}
	}
	n := int(min(int64(len(p)), int64(len(c.rbuf)), c.chunkLeft))
	n = c.give(p, n)
	if c.chunkLeft -= int64(n); c.chunkLeft == 0 {
		c.mode = modeCommand
	}
	return n, nil
}

func (c *conn) readCommand(p []byte) (int, error) {
	for {
		if c.lineLeft > 0 {
			n := c.give(p, min(c.lineLeft, len(c.rbuf)))
			if c.lineLeft -= n; c.lineLeft == 0 && c.nextChunk > 0 {
				c.mode, c.chunkLeft, c.nextChunk = modeChunk, c.nextChunk, 0
			}
			return n, nil
		}
		i := bytes.IndexByte(c.rbuf, '\n')
		if i < 0 {
			if len(c.rbuf) >= maxCommandLine || c.rerr != nil && len(c.rbuf) > 0 {
				// Not a line we can judge: go-smtp refuses it.
				return c.give(p, len(c.rbuf)), nil
			}
			if c.rerr != nil {
				return 0, c.rerr
			}
			c.fill(time.Now().Add(c.cmdTimeout))
			continue
		}
		line := c.rbuf[:i+1]
		verb, arg := splitCommand(line)
		if verb == "XFORWARD" {
			c.rbuf = c.rbuf[i+1:]
			c.writeRaw(c.xforward(arg))
			continue
		}
		c.noteCommand(verb, arg)
		c.lineLeft = i + 1
	}
}

// splitCommand returns the upper-case verb and the rest of a command line
// without its line end.
func splitCommand(line []byte) (string, string) {
	s := strings.TrimRight(string(line), "\r\n")
	verb, arg, _ := strings.Cut(s, " ")
	if len(verb) > 16 {
		return "", ""
	}
	return strings.ToUpper(verb), arg
}

// noteCommand watches the commands go-smtp is about to get.
func (c *conn) noteCommand(verb, arg string) {
	switch verb {
	case "HELO", "EHLO", "LHLO":
		c.st.mu.Lock()
		c.st.protocol = map[string]string{"HELO": "SMTP", "EHLO": "ESMTP", "LHLO": "LMTP"}[verb]
		c.st.mu.Unlock()
		if verb != "HELO" {
			c.mu.Lock()
			c.ehlo, c.wbuf = true, nil
			c.mu.Unlock()
		}
	case "BDAT":
		// go-smtp reads the chunk after the command line whatever it
		// answers, unless the command is malformed (its own checks).
		f := strings.Fields(arg)
		if len(f) == 1 || len(f) == 2 && strings.EqualFold(f[1], "LAST") {
			if n, err := strconv.ParseUint(f[0], 10, 32); err == nil && n > 0 {
				c.nextChunk = int64(n)
			}
		}
	}
}

// xforward handles one XFORWARD command and returns the reply line.
func (c *conn) xforward(arg string) string {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.inTx {
		return "503 5.5.1 Error: MAIL transaction in progress\r\n"
	}
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		return "501 5.5.4 Syntax: XFORWARD attribute=value...\r\n"
	}
	next := c.st.xf
	for _, f := range fields {
		name, val, ok := strings.Cut(f, "=")
		name = strings.ToUpper(name)
		dst := next.Field(name)
		if !ok || dst == nil {
			return fmt.Sprintf("501 5.5.4 Bad XFORWARD attribute name: %.40s\r\n", safeText(name))
		}
		v, err := unxtext(val)
		if err != nil || len(v) > maxXForwardValue || spool.CheckValue(v) != nil {
			return fmt.Sprintf("501 5.5.4 Bad XFORWARD attribute value for %s\r\n", name)
		}
		*dst = v
	}
	c.st.xf = next
	return "250 2.0.0 Ok\r\n"
}

// safeText keeps printable ASCII only, for echoing input in a reply.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// unxtext decodes RFC 3461 xtext, accepting lower-case hex too.
func unxtext(s string) (string, error) {
	if !strings.Contains(s, "+") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated xtext %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad xtext %q", s)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

func (c *conn) writeRaw(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Conn.SetWriteDeadline(time.Now().Add(c.cmdTimeout))
	c.Conn.Write([]byte(s))
}

func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	ehlo := c.ehlo
	if !ehlo && bytes.HasPrefix(p, []byte("354")) {
		c.saw354 = true
	}
	c.mu.Unlock()
	if !ehlo {
		return c.Conn.Write(p)
	}
	return len(p), c.writeEHLO(p)
}

// writeEHLO rewrites the reply to EHLO/LHLO line by line: XFORWARD in,
// CHUNKING out.
func (c *conn) writeEHLO(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wbuf = append(c.wbuf, p...)
	var out []byte
	for {
		i := bytes.IndexByte(c.wbuf, '\n')
		if i < 0 {
			break
		}
		line := c.wbuf[:i+1]
		c.wbuf = c.wbuf[i+1:]
		switch {
		case len(line) < 4:
			out = append(out, line...)
		case bytes.EqualFold(bytes.TrimRight(line[4:], "\r\n"), []byte("CHUNKING")):
			// dropped
		case bytes.HasPrefix(line, []byte("250 ")):
			out = append(out, xforwardReply...)
			out = append(out, line...)
			c.ehlo = false
		case line[3] == ' ':
			out = append(out, line...) // an error reply: nothing to add
			c.ehlo = false
		default:
			out = append(out, line...)
		}
	}
	if !c.ehlo && len(c.wbuf) > 0 {
		out = append(out, c.wbuf...)
		c.wbuf = nil
	}
	if len(out) == 0 {
		return nil
	}
	_, err := c.Conn.Write(out)
	return err
}
