package spool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Magic is the first line of every envelope file: the format and its
// version.
const Magic = "qscan-spool 1"

// ErrSyntax means an envelope file does not follow the format; the error
// names the line.
var ErrSyntax = errors.New("spool: envelope syntax")

// ErrLimit means an envelope file passes one of the parser's limits.
var ErrLimit = errors.New("spool: envelope over a limit")

// Envelope is everything the SMTP transaction said about a message besides
// its bytes: the reverse path, the recipients with their DSN parameters,
// the MAIL parameters, the XFORWARD attributes of the original client, and
// where and when it came in.
type Envelope struct {
	Received time.Time // when the message was committed to the spool
	Listener string    // the address it came in on ("127.0.0.1:10024", "/run/qscan/lmtp")
	Protocol string    // "SMTP" (HELO), "ESMTP" (EHLO) or "LMTP" (LHLO)
	Client   string    // the MTA that handed it over ("127.0.0.1:41234")
	Helo     string    // the name that MTA gave in EHLO/LHLO

	Sender   string // reverse path without brackets; "" is the null sender <>
	Return   string // DSN RET: "", "FULL" or "HDRS"
	EnvID    string // DSN ENVID, decoded; "" when not given
	Size     int64  // SIZE= as declared by the client; 0 when not given
	Body     string // BODY=: "", "7BIT", "8BITMIME" or "BINARYMIME"
	SMTPUTF8 bool   // MAIL ... SMTPUTF8

	XForward   XForward
	Recipients []Recipient
}

// Recipient is one RCPT TO with its DSN parameters.
type Recipient struct {
	Addr      string   // forward path without brackets
	Notify    []string // DSN NOTIFY: nil when not given, else "NEVER" or some of "SUCCESS", "FAILURE", "DELAY"
	ORcptType string   // DSN ORCPT address type ("RFC822", "UTF-8"); "" when not given
	ORcpt     string   // DSN ORCPT address, decoded
}

// XForward holds the attributes of Postfix's XFORWARD command: the client
// that sent the message to the MTA in front of qscan. Values are decoded;
// Postfix's "[UNAVAILABLE]" and "[TEMPUNAVAIL]" are kept as they are.
type XForward struct {
	Name   string // client host name
	Addr   string // client address (IPv6 addresses may carry Postfix's "IPv6:" prefix)
	Port   string // client port
	Proto  string // SMTP, ESMTP, ... as the client spoke to the MTA
	Helo   string // the client's HELO/EHLO name
	Ident  string // the MTA's queue ID
	Source string // LOCAL or REMOTE
	Login  string // SASL login name
}

// XForwardNames lists the XFORWARD attribute names in the order they are
// written.
var XForwardNames = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", "LOGIN"}

// Field returns a pointer to the attribute called name (upper case), or nil
// for an unknown name.
func (x *XForward) Field(name string) *string {
	switch name {
	case "NAME":
		return &x.Name
	case "ADDR":
		return &x.Addr
	case "PORT":
		return &x.Port
	case "PROTO":
		return &x.Proto
	case "HELO":
		return &x.Helo
	case "IDENT":
		return &x.Ident
	case "SOURCE":
		return &x.Source
	case "LOGIN":
		return &x.Login
	}
	return nil
}

// IsZero reports whether no attribute is set.
func (x XForward) IsZero() bool { return x == XForward{} }

// Limits bound what ParseEnvelope reads.
type Limits struct {
	MaxBytes      int64 // whole file; 0 means 8 MiB
	MaxLine       int   // one line; 0 means 4096
	MaxRecipients int   // 0 means 10000
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 8 << 20
	}
	if l.MaxLine <= 0 {
		l.MaxLine = 4096
	}
	if l.MaxRecipients <= 0 {
		l.MaxRecipients = 10000
	}
	return l
}

// MaxValue bounds every single decoded value (an address, an attribute).
const MaxValue = 1000

var (
	protocols = []string{"SMTP", "ESMTP", "LMTP"}
	returns   = []string{"FULL", "HDRS"}
	bodies    = []string{"7BIT", "8BITMIME", "BINARYMIME"}
	notifies  = []string{"NEVER", "SUCCESS", "FAILURE", "DELAY"}
	orcptType = []string{"RFC822", "UTF-8"}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// Bytes writes the envelope in the spool format: one "key value" line each,
// values in xtext (RFC 3461: bytes outside "!".."~" and "+", "=" as +HH),
// ending with the line "end". It refuses what ParseEnvelope would refuse.
func (e *Envelope) Bytes() ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	line := func(key, v string) {
		b.WriteString(key)
		if v != "" {
			b.WriteByte(' ')
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	line(Magic, "")
	line("received", e.Received.UTC().Format(time.RFC3339Nano))
	line("protocol", e.Protocol)
	if e.Listener != "" {
		line("listener", xtext(e.Listener))
	}
	if e.Client != "" {
		line("client", xtext(e.Client))
	}
	if e.Helo != "" {
		line("helo", xtext(e.Helo))
	}
	line("sender", xtext(e.Sender))
	if e.Return != "" {
		line("ret", e.Return)
	}
	if e.EnvID != "" {
		line("envid", xtext(e.EnvID))
	}
	if e.Size > 0 {
		line("size", strconv.FormatInt(e.Size, 10))
	}
	if e.Body != "" {
		line("body", e.Body)
	}
	if e.SMTPUTF8 {
		line("smtputf8", "")
	}
	for _, name := range XForwardNames {
		x := e.XForward
		if v := *x.Field(name); v != "" {
			line("xforward", name+"="+xtext(v))
		}
	}
	for _, r := range e.Recipients {
		v := xtext(r.Addr)
		if r.Notify != nil {
			v += " notify=" + strings.Join(r.Notify, ",")
		}
		if r.ORcptType != "" {
			v += " orcpt=" + r.ORcptType + ";" + xtext(r.ORcpt)
		}
		line("rcpt", v)
	}
	line("end", "")
	return b.Bytes(), nil
}

// check validates the fields as ParseEnvelope does.
func (e *Envelope) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, a...))
	}
	if !oneOf(e.Protocol, protocols) {
		return bad("protocol %q", e.Protocol)
	}
	if e.Return != "" && !oneOf(e.Return, returns) {
		return bad("ret %q", e.Return)
	}
	if e.Body != "" && !oneOf(e.Body, bodies) {
		return bad("body %q", e.Body)
	}
	if e.Size < 0 {
		return bad("size %d", e.Size)
	}
	if e.Received.IsZero() {
		return bad("no received time")
	}
	vals := []string{e.Listener, e.Client, e.Helo, e.Sender, e.EnvID}
	for _, name := range XForwardNames {
		vals = append(vals, *e.XForward.Field(name))
	}
	for _, v := range vals {
		if err := checkValue(v); err != nil {
			return err
		}
	}
	if len(e.Recipients) == 0 {
		return bad("no recipient")
	}
	for _, r := range e.Recipients {
		if r.Addr == "" {
			return bad("empty recipient")
		}
		if err := checkNotify(r.Notify); err != nil {
			return err
		}
		if err := checkValue(r.Addr); err != nil {
			return err
		}
		if err := checkValue(r.ORcpt); err != nil {
			return err
		}
		if (r.ORcptType == "") != (r.ORcpt == "") || r.ORcptType != "" && !oneOf(r.ORcptType, orcptType) {
			return bad("orcpt %q;%q", r.ORcptType, r.ORcpt)
		}
	}
	return nil
}

// CheckValue says whether v can be stored as an envelope value: at most
// MaxValue bytes, no control characters (nothing in an envelope may break
// a log line or a header).
func CheckValue(v string) error { return checkValue(v) }

func checkValue(v string) error {
	if len(v) > MaxValue {
		return fmt.Errorf("%w: value of %d bytes (at most %d)", ErrLimit, len(v), MaxValue)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control character %#x in a value", ErrSyntax, c)
		}
	}
	return nil
}

func checkNotify(n []string) error {
	if n == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, v := range n {
		if !oneOf(v, notifies) || seen[v] {
			return fmt.Errorf("%w: notify %q", ErrSyntax, strings.Join(n, ","))
		}
		seen[v] = true
	}
	if seen["NEVER"] && len(n) > 1 || len(n) == 0 {
		return fmt.Errorf("%w: notify %q", ErrSyntax, strings.Join(n, ","))
	}
	return nil
}

// ParseEnvelope reads an envelope file strictly: the magic line first,
// known keys only, each single-valued key at most once, "end" last and
// nothing after it, every value valid, within lim.
func ParseEnvelope(r io.Reader, lim Limits) (*Envelope, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read spool envelope: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: envelope over %d bytes", ErrLimit, lim.MaxBytes)
	}
	p := parser{lim: lim, seen: map[string]bool{}, e: &Envelope{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, min(512, lim.MaxLine+1)), lim.MaxLine+1)
	sc.Split(scanLF)
	for sc.Scan() {
		p.n++
		if len(sc.Bytes()) > lim.MaxLine {
			return nil, fmt.Errorf("%w: line %d longer than %d bytes", ErrLimit, p.n, lim.MaxLine)
		}
		if p.done {
			return nil, p.errorf("data after end")
		}
		if err := p.line(sc.Text()); err != nil {
			return nil, err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("%w: line %d longer than %d bytes", ErrLimit, p.n+1, lim.MaxLine)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, p.n+1, err)
	}
	if !p.done {
		return nil, fmt.Errorf("%w: no end line (truncated)", ErrSyntax)
	}
	if err := p.e.check(); err != nil {
		return nil, err
	}
	// One spelling per envelope: what Bytes would write, byte for byte
	// (line order, UTC time, canonical xtext).
	if out, err := p.e.Bytes(); err != nil || !bytes.Equal(out, data) {
		return nil, fmt.Errorf("%w: not in canonical form (order of lines, time zone)", ErrSyntax)
	}
	return p.e, nil
}

// scanLF splits at "\n" and insists every line has one.
func scanLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, errors.New("last line has no newline")
	}
	return 0, nil, nil
}

type parser struct {
	lim  Limits
	e    *Envelope
	n    int
	seen map[string]bool
	done bool
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrSyntax, p.n, fmt.Sprintf(format, a...))
}

func (p *parser) line(s string) error {
	if p.n == 1 {
		if s != Magic {
			return p.errorf("not a qscan spool envelope (want %q)", Magic)
		}
		return nil
	}
	key, val, hasVal := strings.Cut(s, " ")
	if hasVal && val == "" {
		return p.errorf("trailing space")
	}
	if key != "rcpt" && key != "xforward" {
		if p.seen[key] {
			return p.errorf("%s given twice", key)
		}
		p.seen[key] = true
	}
	needVal := key != "smtputf8" && key != "end" && key != "sender"
	if needVal && !hasVal || (key == "smtputf8" || key == "end") && hasVal {
		return p.errorf("%s: wrong number of values", key)
	}
	return p.field(key, val)
}

func (p *parser) field(key, val string) error {
	e := p.e
	var err error
	switch key {
	case "received":
		e.Received, err = time.Parse(time.RFC3339Nano, val)
	case "protocol":
		e.Protocol, err = p.enum(val, protocols)
	case "listener":
		e.Listener, err = p.xtext(val)
	case "client":
		e.Client, err = p.xtext(val)
	case "helo":
		e.Helo, err = p.xtext(val)
	case "sender":
		e.Sender, err = p.xtext(val)
	case "ret":
		e.Return, err = p.enum(val, returns)
	case "envid":
		e.EnvID, err = p.xtext(val)
	case "size":
		e.Size, err = strconv.ParseInt(val, 10, 64)
		if err == nil && (e.Size <= 0 || val[0] == '0' || val[0] == '+') {
			err = errors.New("not a positive number")
		}
	case "body":
		e.Body, err = p.enum(val, bodies)
	case "smtputf8":
		e.SMTPUTF8 = true
	case "xforward":
		err = p.xforward(val)
	case "rcpt":
		err = p.rcpt(val)
	case "end":
		p.done = true
	default:
		return p.errorf("unknown key %q", key)
	}
	if errors.Is(err, ErrLimit) {
		return fmt.Errorf("line %d: %s: %w", p.n, key, err)
	}
	if err != nil {
		return p.errorf("%s: %v", key, err)
	}
	return nil
}

func (p *parser) enum(v string, set []string) (string, error) {
	if !oneOf(v, set) {
		return "", fmt.Errorf("%q is not one of %s", v, strings.Join(set, ", "))
	}
	return v, nil
}

func (p *parser) xtext(v string) (string, error) {
	s, err := unxtext(v)
	if err != nil {
		return "", err
	}
	return s, checkValue(s)
}

func (p *parser) xforward(val string) error {
	name, v, ok := strings.Cut(val, "=")
	f := p.e.XForward.Field(name)
	if !ok || f == nil || v == "" {
		return fmt.Errorf("want NAME=value with a known name, got %q", val)
	}
	if p.seen["xforward "+name] {
		return fmt.Errorf("%s given twice", name)
	}
	p.seen["xforward "+name] = true
	var err error
	*f, err = p.xtext(v)
	return err
}

func (p *parser) rcpt(val string) error {
	if len(p.e.Recipients) >= p.lim.MaxRecipients {
		return fmt.Errorf("%w: more than %d recipients", ErrLimit, p.lim.MaxRecipients)
	}
	fields := strings.Split(val, " ")
	addr, err := p.xtext(fields[0])
	if err != nil {
		return err
	}
	if addr == "" {
		return errors.New("empty address")
	}
	r := Recipient{Addr: addr}
	for i, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch {
		case k == "notify" && r.Notify == nil && i == 0:
			r.Notify = strings.Split(v, ",")
			if err := checkNotify(r.Notify); err != nil {
				return err
			}
		case k == "orcpt" && r.ORcptType == "":
			t, a, ok := strings.Cut(v, ";")
			if !ok || !oneOf(t, orcptType) || a == "" {
				return fmt.Errorf("orcpt %q", v)
			}
			if r.ORcpt, err = p.xtext(a); err != nil {
				return err
			}
			if r.ORcpt == "" {
				return fmt.Errorf("orcpt %q", v)
			}
			r.ORcptType = t
		default:
			return fmt.Errorf("unexpected %q", f)
		}
	}
	p.e.Recipients = append(p.e.Recipients, r)
	return nil
}

const hexUpper = "0123456789ABCDEF"

// xtext encodes s as RFC 3461 xtext.
func xtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '!' && c <= '~' && c != '+' && c != '=' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('+')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

// unxtext decodes xtext strictly: only the canonical form xtext writes is
// accepted (upper-case hex, and only for the bytes that need it), so that
// every file has one spelling.
func unxtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			if i+2 >= len(s) {
				return "", errors.New("truncated +HH")
			}
			hi, lo := strings.IndexByte(hexUpper, s[i+1]), strings.IndexByte(hexUpper, s[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("bad +HH %q", s[i:i+3])
			}
			d := byte(hi<<4 | lo)
			if d >= '!' && d <= '~' && d != '+' && d != '=' {
				return "", fmt.Errorf("needless +HH %q", s[i:i+3])
			}
			b.WriteByte(d)
			i += 2
			continue
		}
		if c < '!' || c > '~' || c == '=' {
			return "", fmt.Errorf("byte %#x not allowed in xtext", c)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}
