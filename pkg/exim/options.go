package exim

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Option is one "-name value" line of a -H file (Exim keeps variables and
// flags there: -helo_name, -host_address, -body_linecount, -frozen ...).
type Option struct {
	Name    string // "helo_name", "aclm", "frozen" ...
	Tainted bool   // written "--name": Exim's data was tainted
	Quoter  string // "--(name)": the lookup type the value is quoted for
	Value   string // the rest of the line after "name "; "" for a flag
	// Data is the value of an ACL variable line (-aclc, -aclm, -acl): the
	// bytes that follow the line ("<name> <length>" in Value).
	Data []byte
	raw  []byte
}

// isACL tells the option lines whose value follows on the next lines.
func isACL(name string) bool { return name == "aclc" || name == "aclm" || name == "acl" }

// parseOption reads one option line (content, without "\n"); for an ACL
// variable it consumes the value's bytes and the "\n" after them.
func parseOption(r *reader, content []byte) (Option, error) {
	var o Option
	s := string(content[1:])
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		o.Tainted, s = true, rest
	}
	if rest, ok := strings.CutPrefix(s, "("); ok {
		q, after, ok := strings.Cut(rest, ")")
		if !ok {
			return o, r.errf("option %.60q: unterminated quoter", content)
		}
		o.Quoter, s = q, after
	}
	o.Name, o.Value, _ = strings.Cut(s, " ")
	if o.Name == "" {
		return o, r.errf("option %.60q: no name", content)
	}
	if !isACL(o.Name) {
		return o, nil
	}
	i := strings.LastIndexByte(o.Value, ' ')
	n, err := strconv.Atoi(o.Value[i+1:])
	if i < 0 || err != nil || n < 0 {
		return o, r.errf("ACL variable %.60q: no length", content)
	}
	if n > len(r.data)-r.pos-1 || r.data[r.pos+n] != '\n' {
		return o, r.errf("ACL variable %.60q: value of %d bytes beyond the end of the file", content, n)
	}
	o.Data = r.data[r.pos : r.pos+n : r.pos+n]
	r.lineNo += bytes.Count(o.Data, []byte("\n")) + 1
	r.pos += n + 1
	return o, nil
}

// Options returns the option lines in file order.
func (h *H) Options() []Option { return h.options }

// Option returns the value of the first option called name.
func (h *H) Option(name string) (string, bool) {
	for _, o := range h.options {
		if o.Name == name {
			return o.Value, true
		}
	}
	return "", false
}

// SetOption sets the value of option name (untainted, as Exim writes what
// it computed itself), adding the line after the others when there is
// none. A value must be one line.
func (h *H) SetOption(name, value string) error {
	if name == "" || isACL(name) || strings.ContainsAny(name, " \n") || strings.ContainsAny(value, "\n\x00") {
		return fmt.Errorf("set option %q: %w", name, ErrFormat)
	}
	line := "-" + name
	if value != "" {
		line += " " + value
	}
	o := Option{Name: name, Value: value, raw: []byte(line + "\n")}
	for i := range h.options {
		if h.options[i].Name == name {
			h.options[i] = o
			return nil
		}
	}
	h.options = append(h.options, o)
	return nil
}

// Sender returns the envelope sender without its angle brackets; "" for
// a bounce (the null sender).
func (h *H) Sender() string { return h.sender }

// Recipients returns the recipients in file order, delivered ones
// included (see NonRecipients in Exim's documentation).
func (h *H) Recipients() []Recipient { return h.rcpts }

// Login returns the login, uid and gid of the process that wrote the
// message (the Exim user for mail received by the daemon).
func (h *H) Login() (login string, uid, gid int64) { return h.login, h.uid, h.gid }

// WarningCount returns how many delay warnings were sent.
func (h *H) WarningCount() int { return h.warnings }

// Received returns the time the message was received, with the
// microseconds of -received_time_usec when present.
func (h *H) Received() time.Time {
	t := time.Unix(h.received, 0)
	if v, ok := h.Option("received_time_usec"); ok {
		if us, err := strconv.Atoi(strings.TrimPrefix(v, ".")); err == nil && us >= 0 && us < 1000000 {
			t = t.Add(time.Duration(us) * time.Microsecond)
		}
	}
	return t
}

// BodyLines returns -body_linecount, or -1 when there is none.
func (h *H) BodyLines() int {
	v, ok := h.Option("body_linecount")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// SetBodyLines sets -body_linecount: a replaced body must carry its own
// count, or Exim may send it incompletely (specification, "Format of
// spool files").
func (h *H) SetBodyLines(n int) error { return h.SetOption("body_linecount", strconv.Itoa(n)) }

// Wireformat reports -spool_file_wireformat: the -D file then has CRLF
// line ends (CHUNKING with spool_wireformat), not LF.
func (h *H) Wireformat() bool { _, ok := h.Option("spool_file_wireformat"); return ok }

// CountLines counts the lines of a body as Exim's -body_linecount does:
// one per line end, and one for a last line without one.
func CountLines(body []byte) int {
	n := bytes.Count(body, []byte("\n"))
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}

// Client is what a -H file says of the SMTP client a message came from.
type Client struct {
	Addr      netip.AddrPort // -host_address; invalid for a local message
	Interface netip.AddrPort // -interface_address
	Name      string         // -host_name (reverse lookup), "" when none
	Helo      string         // -helo_name
	Protocol  string         // -received_protocol: "esmtp", "esmtpsa", "local" ...
	AuthID    string         // -auth_id: the authenticated user
	AuthName  string         // -host_auth: the authenticator
	AuthFrom  string         // -auth_sender: MAIL AUTH=
	Ident     string         // -ident
	Local     bool           // -local
}

// Client returns the client data of the message.
func (h *H) Client() Client {
	var c Client
	for _, o := range h.options {
		switch o.Name {
		case "host_address":
			c.Addr = parseHostPort(o.Value)
		case "interface_address":
			c.Interface = parseHostPort(o.Value)
		case "host_name":
			c.Name = o.Value
		case "helo_name":
			c.Helo = o.Value
		case "received_protocol":
			c.Protocol = o.Value
		case "auth_id":
			c.AuthID = o.Value
		case "host_auth":
			c.AuthName = o.Value
		case "auth_sender":
			c.AuthFrom = o.Value
		case "ident":
			c.Ident = o.Value
		case "local":
			c.Local = true
		}
	}
	return c
}

// parseHostPort reads Exim's "[192.0.2.1]:25" and its older
// "192.0.2.1.25"; an unreadable value gives the zero AddrPort.
func parseHostPort(s string) netip.AddrPort {
	if rest, ok := strings.CutPrefix(s, "["); ok {
		a, p, ok := strings.Cut(rest, "]:")
		addr, err1 := netip.ParseAddr(a)
		port, err2 := strconv.ParseUint(p, 10, 16)
		if !ok || err1 != nil || err2 != nil {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(addr, uint16(port))
	}
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return netip.AddrPort{}
	}
	a, err1 := netip.ParseAddr(strings.Trim(s[:i], "[]"))
	p, err2 := strconv.ParseUint(s[i+1:], 10, 16)
	if err1 != nil || err2 != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, uint16(p))
}

// DSN is the message's DSN data from MAIL FROM (RFC 3461).
type DSN struct {
	EnvID string // -dsn_envid: ENVID=
	Ret   int    // -dsn_ret: 0 none, DSNRetFull, DSNRetHdrs
}

// Values of DSN.Ret.
const (
	DSNRetFull = 1
	DSNRetHdrs = 2
)

// DSN returns the message's DSN data.
func (h *H) DSN() DSN {
	var d DSN
	d.EnvID, _ = h.Option("dsn_envid")
	if v, ok := h.Option("dsn_ret"); ok {
		d.Ret, _ = strconv.Atoi(v)
	}
	return d
}

// SMTPUTF8 reports whether the message was received with SMTPUTF8.
func (h *H) SMTPUTF8() bool { _, ok := h.Option("smtputf8"); return ok }

// Frozen reports whether the message is frozen.
func (h *H) Frozen() bool { _, ok := h.Option("frozen"); return ok }
