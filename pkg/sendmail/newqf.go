package sendmail

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// DefaultMaxHeaderBytes is NewOpts.MaxHeaderBytes by default: sendmail's
// own MaxHeadersLength.
const DefaultMaxHeaderBytes = 32 << 10

// NewOpts describes a message for NewQf.
type NewOpts struct {
	Time       time.Time  // creation time (T line); required
	ClientIP   netip.Addr // invalid: a local submission
	ClientHost string     // host name for $_; for a local submission "user@host"
	Helo       string     // $s, omitted when ""
	Protocol   string     // $r, e.g. "ESMTP"; omitted when ""
	BodySize   int64      // df size, for the priority (P line)
	EightBit   bool       // the body has 8-bit bytes: F flag 8 and B8BITMIME
	// MaxHeaderBytes bounds header; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// NewQf builds a fresh format-8 qf the way sendmail 8.17 writes one for a
// message received over SMTP: sender, one "rRFC822; addr" and "RPFD:<addr>"
// pair per recipient, "Return-Path: <$g>" first, then the headers of
// header (RFC 5322 text, LF or CRLF, up to an optional blank line). A
// Return-Path in header is dropped. The caller supplies Date, From and
// Message-ID: a queue run does not add them.
func NewQf(sender string, rcpts []string, header []byte, opts NewOpts) (*Qf, error) {
	if opts.Time.IsZero() {
		return nil, fmt.Errorf("new qf: no creation time")
	}
	if len(rcpts) == 0 {
		return nil, fmt.Errorf("new qf: %w", ErrNoRecipient)
	}
	if err := checkAddress(sender); err != nil {
		return nil, fmt.Errorf("new qf sender: %w", err)
	}
	for _, s := range []string{opts.ClientHost, opts.Helo, opts.Protocol} {
		if err := checkAddress(s); err != nil {
			return nil, fmt.Errorf("new qf client: %w", err)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "V8\nT%d\nK0\nN0\nP%d\n", opts.Time.Unix(), opts.BodySize+30000*int64(len(rcpts)))
	flags := "bs"
	if opts.EightBit {
		b.WriteString("B8BITMIME\n")
		flags = "8bs"
	}
	fmt.Fprintf(&b, "F%s\n$_%s\n", flags, clientMacro(opts.ClientHost, opts.ClientIP))
	if opts.Protocol != "" {
		fmt.Fprintf(&b, "$r%s\n", opts.Protocol)
	}
	if opts.Helo != "" {
		fmt.Fprintf(&b, "$s%s\n", opts.Helo)
	}
	fmt.Fprintf(&b, "S<%s>\n", sender)
	for _, r := range rcpts {
		if r == "" {
			return nil, fmt.Errorf("new qf recipient: %w: empty", ErrBadAddress)
		}
		if err := checkAddress(r); err != nil {
			return nil, fmt.Errorf("new qf recipient: %w", err)
		}
		fmt.Fprintf(&b, "rRFC822; %s\nRPFD:<%s>\n", r, r)
	}
	b.WriteString("H?P?Return-Path: <\x81g>\n")
	if err := appendHeaders(&b, header, opts.MaxHeaderBytes); err != nil {
		return nil, fmt.Errorf("new qf: %w", err)
	}
	b.WriteString(".\n")
	q, err := parse(b.Bytes(), Limits{}.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("new qf: %w", err)
	}
	return q, nil
}

// clientMacro formats $_ as sendmail does: "host [192.0.2.1]",
// "[IPv6:2001:db8::1]", or the bare user@host of a local submission.
func clientMacro(host string, ip netip.Addr) string {
	if !ip.IsValid() {
		if host == "" {
			return "localhost"
		}
		return host
	}
	a := "[" + ip.String() + "]"
	if ip.Is6() && !ip.Is4In6() {
		a = "[IPv6:" + ip.String() + "]"
	}
	if host == "" {
		return a
	}
	return host + " " + a
}

// appendHeaders writes header as H?? lines, quoted as sendmail does.
func appendHeaders(b *bytes.Buffer, header []byte, max int) error {
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	if len(header) > max {
		return fmt.Errorf("%w: header block larger than %d bytes", ErrBadHeader, max)
	}
	if bytes.IndexByte(header, 0) >= 0 {
		return fmt.Errorf("%w: NUL in header block", ErrBadHeader)
	}
	skip := false // inside a dropped Return-Path
	for n := 1; len(header) > 0; n++ {
		raw, line := physLine(header)
		header = header[len(raw):]
		if len(line) == 0 {
			break // end of the header block
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			return fmt.Errorf("%w: bare CR in header line %d", ErrBadHeader, n)
		}
		if isWSP(line[0]) {
			if n == 1 {
				return fmt.Errorf("%w: header starts with a continuation line", ErrBadHeader)
			}
			if !skip {
				b.Write(quote(string(line)))
				b.WriteByte('\n')
			}
			continue
		}
		name, _, ok := strings.Cut(string(line), ":")
		name = strings.TrimRight(name, " \t")
		if !ok || !validHeaderName(name) {
			return fmt.Errorf("%w: line %d is not a header: %.40q", ErrBadHeader, n, line)
		}
		if skip = equalFoldASCII(name, "Return-Path"); skip {
			continue
		}
		b.WriteString("H??")
		b.Write(quote(string(line)))
		b.WriteByte('\n')
	}
	return nil
}
