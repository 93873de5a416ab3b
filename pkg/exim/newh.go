package exim

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// DefaultMaxHeaderBytes is NewOpts.MaxHeaderBytes by default: Exim's own
// header_maxsize.
const DefaultMaxHeaderBytes = 1 << 20

// placeholderID names a new H until Publish gives it its ID.
const placeholderID = "000000-000000-00"

// NewOpts describes a message for NewH.
type NewOpts struct {
	Time     time.Time      // reception time; required
	Login    string         // who wrote it; default "root" with uid and gid 0
	UID, GID int64          // with Login
	Client   netip.AddrPort // invalid: a local message (-local)
	Helo     string         // -helo_name, omitted when ""
	Protocol string         // -received_protocol; default "local" or "esmtp"
	// BodyLines and BodyMaxLine are -body_linecount and the body's part of
	// -max_received_linelength (see CountLines).
	BodyLines   int
	BodyMaxLine int
	SMTPUTF8    bool
	// MaxHeaderBytes bounds header; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// NewH builds a fresh -H file the way Exim 4.96 writes one for a message
// it has just received: the fixed lines, the options, an empty
// non-recipient tree, the recipients (with their DSN data), a blank line
// and the headers of header (RFC 5322 text, LF or CRLF, up to an optional
// blank line), each with the flag letter Exim gives its name. The ID is a
// placeholder until SetID (Queue.Publish sets it). The caller supplies
// Date, From and Message-ID; a Return-Path in header is dropped, as Exim
// adds its own on delivery.
func NewH(sender string, rcpts []Recipient, header []byte, o NewOpts) (*H, error) {
	if o.Time.IsZero() {
		return nil, fmt.Errorf("new -H: no reception time")
	}
	if len(rcpts) == 0 {
		return nil, fmt.Errorf("new -H: %w", ErrNoRecipient)
	}
	for _, s := range []string{sender, o.Login, o.Helo, o.Protocol} {
		if err := checkAddress(s); err != nil {
			return nil, fmt.Errorf("new -H: %w", err)
		}
	}
	if strings.ContainsAny(sender, "<>") {
		return nil, fmt.Errorf("new -H sender: %w: %q", ErrBadAddress, sender)
	}
	login := o.Login
	if login == "" {
		login, o.UID, o.GID = "root", 0, 0
	}
	proto := o.Protocol
	if proto == "" {
		proto = "local"
		if o.Client.IsValid() {
			proto = "esmtp"
		}
	}
	var hb bytes.Buffer
	maxLine, err := appendHeaders(&hb, header, o.MaxHeaderBytes)
	if err != nil {
		return nil, fmt.Errorf("new -H: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s-H\n%.63s %d %d\n<%s>\n%d 0\n", placeholderID, login, o.UID, o.GID, sender, o.Time.Unix())
	us := o.Time.Nanosecond() / 1000
	fmt.Fprintf(&b, "-received_time_usec .%06d\n-received_time_complete %d.%06d\n", us, o.Time.Unix(), us)
	if o.Helo != "" {
		fmt.Fprintf(&b, "--helo_name %s\n", o.Helo)
	}
	if o.Client.IsValid() {
		fmt.Fprintf(&b, "-host_address [%s]:%d\n", o.Client.Addr().Unmap(), o.Client.Port())
	}
	fmt.Fprintf(&b, "-received_protocol %s\n-body_linecount %d\n-max_received_linelength %d\n-deliver_firsttime\n",
		proto, o.BodyLines, max(maxLine, o.BodyMaxLine))
	if !o.Client.IsValid() {
		b.WriteString("-local\n")
	}
	if o.SMTPUTF8 {
		b.WriteString("-smtputf8\n")
	}
	fmt.Fprintf(&b, "XX\n%d\n", len(rcpts))
	for _, r := range rcpts {
		if r.Address == "" {
			return nil, fmt.Errorf("new -H recipient: %w: %q", ErrBadAddress, r.Address)
		}
		for _, s := range []string{r.Address, r.ORcpt, r.ErrorsTo} {
			if err := checkAddress(s); err != nil {
				return nil, fmt.Errorf("new -H recipient: %w", err)
			}
		}
		b.WriteString(r.format())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(hb.Bytes())
	h, err := parseH(b.Bytes(), Limits{}.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("new -H: %w", err)
	}
	return h, nil
}

// Rcpts turns plain addresses into recipients without DSN data.
func Rcpts(addrs ...string) []Recipient {
	out := make([]Recipient, len(addrs))
	for i, a := range addrs {
		out[i] = Recipient{Address: a, Parent: -1}
	}
	return out
}

// appendHeaders writes header as -H header records and returns its
// longest line.
func appendHeaders(b *bytes.Buffer, header []byte, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultMaxHeaderBytes
	}
	if len(header) > limit {
		return 0, fmt.Errorf("%w: header block larger than %d bytes", ErrBadHeader, limit)
	}
	if bytes.IndexByte(header, 0) >= 0 {
		return 0, fmt.Errorf("%w: NUL in header block", ErrBadHeader)
	}
	header = bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n"))
	if i := bytes.Index(header, []byte("\n\n")); i >= 0 {
		header = header[:i+1]
	} else if bytes.HasPrefix(header, []byte("\n")) {
		header = nil
	}
	if len(header) > 0 && header[len(header)-1] != '\n' {
		header = append(header[:len(header):len(header)], '\n')
	}
	var (
		cur     []byte
		name    string
		maxLine int
	)
	flush := func() {
		if cur != nil && !strings.EqualFold(name, "Return-Path") {
			b.Write(makeHrec(flagFor(name), cur).prefix)
			b.Write(cur)
		}
		cur = nil
	}
	for n := 1; len(header) > 0; n++ {
		i := bytes.IndexByte(header, '\n')
		line := header[:i+1]
		header = header[i+1:]
		maxLine = max(maxLine, len(line)-1)
		if bytes.IndexByte(line, '\r') >= 0 {
			return 0, fmt.Errorf("%w: bare CR in header line %d", ErrBadHeader, n)
		}
		if isWSP(line[0]) {
			if cur == nil {
				return 0, fmt.Errorf("%w: header starts with a continuation line", ErrBadHeader)
			}
			cur = append(cur, line...)
			continue
		}
		flush()
		nm, _, ok := bytes.Cut(line, []byte(":"))
		name = string(bytes.TrimRight(nm, " \t"))
		if !ok || name == "" || strings.ContainsAny(name, " \t") || !validName(name) {
			return 0, fmt.Errorf("%w: line %d is not a header: %.40q", ErrBadHeader, n, line)
		}
		cur = append([]byte{}, line...)
	}
	flush()
	return maxLine, nil
}

func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] >= 0x7f || name[i] == ':' {
			return false
		}
	}
	return true
}
