package postfix

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NewRcpt is one recipient for NewFile.
type NewRcpt struct {
	Addr     string
	Orig     string // original recipient (O record); Addr when ""
	DSNOrcpt string // DSN ORCPT "type;address"; "rfc822;"+Orig when ""
	Notify   int    // NotifyNever ... bits; 0: not given
}

// NewOpts describes a message for NewFile.
type NewOpts struct {
	Time       time.Time // arrival and create time; required
	Sender     string    // "" is the null sender
	Recipients []NewRcpt // at least one
	ClientAddr string    // client_address and log_client_address; omitted when ""
	ClientName string    // client_name and log_client_name; omitted when ""
	Helo       string    // helo_name; omitted when ""
	Protocol   string    // protocol_name, e.g. "ESMTP"; omitted when ""
	EnvID      string    // DSN ENVID; omitted when ""
	Ret        int       // DSN RET (RetFull, RetHdrs); 0: not given
	SMTPUTF8   bool      // the message needs SMTPUTF8 (size record flag)
	LogIdent   string    // log_ident, the ID shown in Postfix's log lines; omitted when ""
	// MaxHeaderBytes bounds header; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// NewFile builds a queue file the way Postfix's cleanup writes one for a
// message received without milters: size record, arrival time,
// create_time, rewrite_context=local, the client attributes, sender,
// recipients (dsn_orig_rcpt, notify_flags, O, R), the content (header,
// empty line, body) and an empty extracted segment. header is RFC 5322
// text (LF or CRLF); body is the message body. The caller supplies Date,
// From and Message-ID: the queue manager adds nothing.
func NewFile(header, body []byte, o NewOpts) (*File, error) {
	if o.Time.IsZero() {
		return nil, fmt.Errorf("new queue file: no arrival time")
	}
	if len(o.Recipients) == 0 {
		return nil, fmt.Errorf("new queue file: no recipient")
	}
	max := o.MaxHeaderBytes
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	if len(header) > max {
		return nil, fmt.Errorf("new queue file: %w: header of %d bytes (limit %d)", ErrTooLarge, len(header), max)
	}
	for _, s := range []string{o.Sender, o.ClientAddr, o.ClientName, o.Helo, o.Protocol, o.EnvID, o.LogIdent} {
		if err := checkValue(s); err != nil {
			return nil, fmt.Errorf("new queue file: %w", err)
		}
	}
	var b []byte
	b = appendRecord(b, RecSize, []byte(sizeValue(make([]int64, 6))))
	b = appendRecord(b, RecTime, fmt.Appendf(nil, "%d %d", o.Time.Unix(), o.Time.Nanosecond()/1000))
	attr := func(name, v string) {
		if v != "" {
			b = appendRecord(b, RecAttr, []byte(name+"="+v))
		}
	}
	attr("create_time", strconv.FormatInt(o.Time.Unix(), 10))
	attr("log_ident", o.LogIdent)
	attr("rewrite_context", "local")
	b = appendRecord(b, RecFrom, []byte(o.Sender))
	attr("log_client_name", o.ClientName)
	attr("log_client_address", o.ClientAddr)
	attr("log_helo_name", o.Helo)
	attr("log_protocol_name", o.Protocol)
	attr("client_name", o.ClientName)
	attr("client_address", o.ClientAddr)
	attr("helo_name", o.Helo)
	attr("protocol_name", o.Protocol)
	attr("envelope_id", o.EnvID)
	if o.Ret != 0 {
		attr("ret_flags", strconv.Itoa(o.Ret))
	}
	for _, r := range o.Recipients {
		if r.Addr == "" {
			return nil, fmt.Errorf("new queue file: empty recipient")
		}
		for _, s := range []string{r.Addr, r.Orig, r.DSNOrcpt} {
			if err := checkValue(s); err != nil {
				return nil, fmt.Errorf("new queue file recipient: %w", err)
			}
		}
		orig := r.Orig
		if orig == "" {
			orig = r.Addr
		}
		orcpt := r.DSNOrcpt
		if orcpt == "" {
			orcpt = "rfc822;" + orig
		}
		attr("dsn_orig_rcpt", orcpt)
		if r.Notify != 0 {
			attr("notify_flags", strconv.Itoa(r.Notify))
		}
		b = appendRecord(b, RecOrcp, []byte(orig))
		b = appendRecord(b, RecRcpt, []byte(r.Addr))
	}
	b = appendRecord(b, RecMesg, nil)
	header = bytes.TrimSuffix(normaliseEOL(header), []byte("\n"))
	if bytes.Contains(header, []byte("\n\n")) {
		return nil, fmt.Errorf("new queue file: %w: an empty line inside the header", ErrFormat)
	}
	if len(header) > 0 {
		for _, r := range textRecords(header) {
			b = appendRecord(b, r.Type, r.Data)
		}
	}
	b = appendRecord(b, RecNorm, nil)
	if body = normaliseEOL(body); len(body) > 0 {
		for _, r := range textRecords(bytes.TrimSuffix(body, []byte("\n"))) {
			b = appendRecord(b, r.Type, r.Data)
		}
	}
	b = appendRecord(b, RecXtra, nil)
	b = appendRecord(b, RecEnd, nil)
	f, err := parse(b, Limits{MaxFileBytes: int64(len(b)), MaxRecordBytes: len(b), MaxRecords: len(b)})
	if err != nil {
		return nil, fmt.Errorf("new queue file: %w", err)
	}
	f.size[5] = 0
	if o.SMTPUTF8 {
		f.size[5] = 1 // SMTPUTF8_FLAG_REQUESTED
	}
	// The flat writer computes the size record's offsets and counts.
	out := f.flat()
	if f, err = parse(out, Limits{MaxFileBytes: int64(len(out)), MaxRecordBytes: len(out), MaxRecords: len(out)}); err != nil {
		return nil, fmt.Errorf("new queue file: %w", err)
	}
	return f, nil
}

// checkValue refuses what cannot be a record of an envelope written by
// cleanup: line ends and NUL bytes.
func checkValue(s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return fmt.Errorf("%w: line end or NUL in %.40q", ErrFormat, s)
	}
	return nil
}
