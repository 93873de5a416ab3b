package sendmail

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Recipient is one envelope recipient: an R line and the C (controlling
// user), Q (ORCPT) and r (final recipient) lines written just before it.
type Recipient struct {
	Addr  string // address without angle brackets, as written
	Flags string // R flag letters before the colon, e.g. "PFD"; "" for the legacy form
	ORCPT string // Q line: the DSN ORCPT, xtext as stored ("rfc822;bob+2Bx@example")
	Final string // r line: the final recipient ("RFC822; bob@example.test")
	Ctl   string // C line: the controlling user, if any
}

// Recipient flag letters as sendmail writes them after R.
const (
	FlagPrimary       = 'P' // an address given by the client, not an alias expansion
	FlagHasNotify     = 'N' // NOTIFY= was given (alone: NOTIFY=NEVER)
	FlagNotifySuccess = 'S'
	FlagNotifyFailure = 'F'
	FlagNotifyDelay   = 'D'
)

// HasFlag reports whether the R line carries flag letter f.
func (r Recipient) HasFlag(f byte) bool { return strings.IndexByte(r.Flags, f) >= 0 }

// stripBrackets removes one pair of enclosing angle brackets and the
// surrounding space: "<a@b>" → "a@b", "<>" → "".
func stripBrackets(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// parseMacro splits the text after '$': "_localhost [127.0.0.1]" or
// "{daemon_flags}c u". Long names are returned without braces.
func parseMacro(s string) (name, value string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] != '{' {
		return s[:1], s[1:], true
	}
	end := strings.IndexByte(s, '}')
	if end < 2 {
		return "", "", false
	}
	return s[1:end], s[end+1:], true
}

// isFlagLetters tells whether s can be the flag list of an R line.
func isFlagLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// parseRcpt reads the text after R. Format 1+ writes "FLAGS:addr"; older
// files and other tools write the bare address.
func parseRcpt(s string, version int) Recipient {
	var r Recipient
	if flags, addr, ok := strings.Cut(s, ":"); ok && version >= 1 && isFlagLetters(flags) {
		r.Flags, s = flags, addr
	}
	r.Addr = stripBrackets(s)
	return r
}

// joinRcpt makes one entry of the R line e and the C/Q/r lines before it.
func joinRcpt(pre []entry, e entry) entry {
	if len(pre) == 0 {
		return e
	}
	var raw []byte
	for _, p := range pre {
		raw = append(raw, p.raw...)
		val := string(unfold(p.raw)[1:])
		switch p.raw[0] {
		case 'C':
			e.rcpt.Ctl = val
		case 'Q':
			e.rcpt.ORCPT = val
		case 'r':
			e.rcpt.Final = val
		}
	}
	e.raw = append(raw, e.raw...)
	return e
}

// Sender returns the envelope sender without angle brackets; "" for the
// null sender <>.
func (q *Qf) Sender() string { return q.sender }

// Recipients returns the envelope recipients in qf order.
func (q *Qf) Recipients() []Recipient {
	var rs []Recipient
	for _, e := range q.entries {
		if e.kind == kindRcpt {
			rs = append(rs, e.rcpt)
		}
	}
	return rs
}

// Macro returns the value of a macro saved in the qf: "_", "r", "s" or a
// long name such as "daemon_flags" or "auth_type" (without braces).
func (q *Qf) Macro(name string) (string, bool) {
	v, ok := q.macros[strings.Trim(name, "{}")]
	return v, ok
}

// Time returns the creation time (T line); zero if absent or unreadable.
func (q *Qf) Time() time.Time {
	for _, e := range q.entries {
		if e.kind == kindOther && len(e.raw) > 1 && e.raw[0] == 'T' {
			sec, err := strconv.ParseInt(string(unfold(e.raw)[1:]), 10, 64)
			if err == nil {
				return time.Unix(sec, 0).UTC()
			}
		}
	}
	return time.Time{}
}

// line returns the content of the first line with code letter c.
func (q *Qf) line(c byte) (string, bool) {
	for _, e := range q.entries {
		if e.kind == kindOther && len(e.raw) > 0 && e.raw[0] == c {
			return string(unfold(e.raw)[1:]), true
		}
	}
	return "", false
}

// EnvFlags returns the envelope flag letters (F line), e.g. "8bs".
func (q *Qf) EnvFlags() string { s, _ := q.line('F'); return s }

// BodyType returns the body type (B line): "8BITMIME", "7BIT" or "".
func (q *Qf) BodyType() string { s, _ := q.line('B'); return s }

// EnvID returns the DSN envelope ID (Z line), or "".
func (q *Qf) EnvID() string { s, _ := q.line('Z'); return s }

// AuthParam returns the AUTH= value of MAIL FROM as sendmail kept it (A
// line, "<>" when sendmail did not trust it), and whether there is one.
func (q *Qf) AuthParam() (string, bool) { return q.auth, q.hasAuth }

// Authenticated reports whether the client was authenticated: sendmail
// saved an ${auth_type}, kept a trusted AUTH= value (A line other than
// "<>"; also written for local submissions by trusted users), or recorded
// an authenticated protocol in $r (RFC 3848: ESMTPA, ESMTPSA, LMTPA, ...).
// Real sendmail 8.17 writes no A line for a client that authenticated but
// gave no AUTH= parameter; $r is then the only trace.
func (q *Qf) Authenticated() bool {
	if v, ok := q.macros["auth_type"]; ok && v != "" {
		return true
	}
	if q.hasAuth && stripBrackets(q.auth) != "" {
		return true
	}
	proto := strings.ToUpper(q.macros["r"])
	return strings.HasSuffix(proto, "SMTPA") || strings.HasSuffix(proto, "SMTPSA") ||
		strings.HasSuffix(proto, "LMTPA") || strings.HasSuffix(proto, "LMTPSA")
}

// Helo returns the HELO/EHLO argument ($s macro).
func (q *Qf) Helo() string { return q.macros["s"] }

// Protocol returns the protocol ($r macro), e.g. "ESMTP", "ESMTPA".
func (q *Qf) Protocol() string { return q.macros["r"] }

// Client is the origin of a message as sendmail recorded it in $_.
type Client struct {
	Ident string     // RFC 1413 user, the part before "@" in "user@host [ip]"
	Host  string     // host name; "" when sendmail knew only the address
	IP    netip.Addr // invalid for a local submission or an unreadable $_
	Local bool       // no [address]: submitted on this machine (sendmail -bm/-bs)
}

// Client returns the parsed $_ macro; the zero Client when there is none.
func (q *Qf) Client() Client {
	v, ok := q.macros["_"]
	if !ok {
		return Client{}
	}
	return ParseClient(v)
}

// ClientIP returns the client address, invalid when unknown or local.
func (q *Qf) ClientIP() netip.Addr { return q.Client().IP }

// ClientHost returns the client host name from $_, "" when unknown.
func (q *Qf) ClientHost() string { return q.Client().Host }

// ParseClient parses the value of sendmail's $_ macro, in the forms
// "host [192.0.2.1]", "user@host [IPv6:2001:db8::1]", "[192.0.2.1]",
// "host [192.0.2.1] (may be forged)" and "user@localhost" (local
// submission, no brackets). An unreadable address leaves IP invalid.
func ParseClient(v string) Client {
	var c Client
	open := strings.IndexByte(v, '[')
	who := v
	if open >= 0 {
		who = v[:open]
		if end := strings.IndexByte(v[open:], ']'); end > 0 {
			a := v[open+1 : open+end]
			if len(a) > 5 && strings.EqualFold(a[:5], "IPv6:") {
				a = a[5:]
			}
			if ip, err := netip.ParseAddr(a); err == nil {
				c.IP = ip.Unmap()
			}
		}
	} else {
		c.Local = true
	}
	who = strings.TrimSpace(who)
	if at := strings.LastIndexByte(who, '@'); at >= 0 {
		c.Ident, who = who[:at], who[at+1:]
	}
	c.Host = who
	return c
}
