package spool

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Magic is the first line of an envelope on its own (format 1): the
// envelope file of a two-file entry (ef<ID> beside mf<ID>, as qscan wrote
// them before one-file entries), and the envelope the quarantine keeps.
const Magic = "qscan-spool 1"

// MagicEntry is the first line of a one-file spool entry (format 2): the
// envelope lines of format 1 up to "end", then the message itself.
const MagicEntry = "qscan-spool 2"

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

// EntryBytes is the envelope as the head of a one-file entry: Bytes with
// MagicEntry as its first line. The message follows it in the file.
func (e *Envelope) EntryBytes() ([]byte, error) {
	b, err := e.Bytes()
	if err != nil {
		return nil, err
	}
	return append([]byte(MagicEntry), b[len(Magic):]...), nil
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
		line("listener", XText(e.Listener))
	}
	if e.Client != "" {
		line("client", XText(e.Client))
	}
	if e.Helo != "" {
		line("helo", XText(e.Helo))
	}
	line("sender", XText(e.Sender))
	if e.Return != "" {
		line("ret", e.Return)
	}
	if e.EnvID != "" {
		line("envid", XText(e.EnvID))
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
			line("xforward", name+"="+XText(v))
		}
	}
	for _, r := range e.Recipients {
		v := XText(r.Addr)
		if r.Notify != nil {
			v += " notify=" + strings.Join(r.Notify, ",")
		}
		if r.ORcptType != "" {
			v += " orcpt=" + r.ORcptType + ";" + XText(r.ORcpt)
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

const hexUpper = "0123456789ABCDEF"

// XText encodes s as RFC 3461 xtext (the spool's values, and the
// attributes of XFORWARD): the canonical form, upper-case hex.
func XText(s string) string {
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
