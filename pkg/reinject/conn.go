package reinject

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/spool"
)

// go-smtp's client (v0.26) has no way to send a command of its own, and
// always writes BODY=8BITMIME when the server offers 8BITMIME. cconn sits
// under it: command sends XFORWARD on the same connection between two of
// go-smtp's commands (go-smtp waits for each reply, so nothing of its own
// is in flight), and Write puts the message's own BODY= value in the
// MAIL command. Every write gets a deadline, which go-smtp does not set
// while the message is written.
type cconn struct {
	net.Conn
	timeout time.Duration

	mu   sync.Mutex
	body string // BODY= of the next MAIL: "", "7BIT" or "8BITMIME"

	// ahead holds what command read past its reply: go-smtp's reader
	// gets it first (Read), so command can read in chunks.
	ahead []byte
}

// Read serves what command read ahead, then the connection.
func (c *cconn) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *cconn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if !bytes.HasPrefix(p, []byte("MAIL FROM:")) || !bytes.HasSuffix(p, []byte("\r\n")) {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	body := c.body
	c.mu.Unlock()
	q := p
	if body != "8BITMIME" && bytes.Contains(p, []byte(" BODY=8BITMIME")) {
		repl := []byte("")
		if body == "7BIT" {
			repl = []byte(" BODY=7BIT")
		}
		q = bytes.Replace(p, []byte(" BODY=8BITMIME"), repl, 1)
	}
	if _, err := c.Conn.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *cconn) setBody(b string) {
	c.mu.Lock()
	c.body = b
	c.mu.Unlock()
}

// maxReply bounds a reply read by command.
const maxReply = 16 << 10

// command sends one command line and reads its reply from the socket, in
// chunks (one read for a reply that came in one segment); bytes past the
// reply stay for go-smtp's reader (Read).
func (c *cconn) command(line string) (Reply, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := c.Conn.Write([]byte(line + "\r\n")); err != nil {
		return Reply{}, err
	}
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	defer c.Conn.SetReadDeadline(time.Time{})
	var text []string
	buf := c.ahead
	c.ahead = nil
	var chunk [512]byte
	total := 0 // bytes of the reply's lines so far
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			if total+len(buf) > maxReply {
				return Reply{}, errors.New("reply too long")
			}
			n, err := c.Conn.Read(chunk[:])
			buf = append(buf, chunk[:n]...)
			if err != nil && n == 0 {
				return Reply{}, err
			}
			continue
		}
		if total += i + 1; total > maxReply {
			return Reply{}, errors.New("reply too long")
		}
		l := strings.TrimSuffix(string(buf[:i]), "\r")
		buf = buf[i+1:]
		if len(l) < 3 {
			return Reply{}, fmt.Errorf("malformed reply %q", l)
		}
		code, err := strconv.Atoi(l[:3])
		if err != nil || code < 200 || code > 599 {
			return Reply{}, fmt.Errorf("malformed reply %q", l)
		}
		text = append(text, strings.TrimLeft(l[3:], " -"))
		if len(l) == 3 || l[3] == ' ' {
			if len(buf) > 0 {
				c.ahead = bytes.Clone(buf)
			}
			return parseReply(code, strings.Join(text, " ")), nil
		}
	}
}

// parseReply splits an enhanced status code off a reply text.
func parseReply(code int, text string) Reply {
	r := Reply{Code: code, Text: clean(text)}
	first, rest, _ := strings.Cut(r.Text, " ")
	parts := strings.Split(first, ".")
	if len(parts) == 3 && len(parts[0]) == 1 && parts[0][0] == byte('0'+code/100) {
		if _, err1 := strconv.Atoi(parts[1]); err1 == nil {
			if _, err2 := strconv.Atoi(parts[2]); err2 == nil {
				r.Enhanced, r.Text = first, rest
			}
		}
	}
	return r
}

// xforwardLines builds the XFORWARD commands for the attributes the server
// offers (names, from its EHLO line), each line under 512 bytes as Postfix
// sends them.
func xforwardLines(x spool.XForward, offered string) []string {
	ok := map[string]bool{}
	for _, n := range strings.Fields(strings.ToUpper(offered)) {
		ok[n] = true
	}
	var lines []string
	cur := "XFORWARD"
	for _, name := range spool.XForwardNames {
		v := *x.Field(name)
		if v == "" || !ok[name] {
			continue
		}
		attr := " " + name + "=" + spool.XText(v)
		if len(cur)+len(attr) > 500 && cur != "XFORWARD" {
			lines = append(lines, cur)
			cur = "XFORWARD"
		}
		cur += attr
	}
	if cur != "XFORWARD" {
		lines = append(lines, cur)
	}
	return lines
}
