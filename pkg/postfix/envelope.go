package postfix

import (
	"bytes"
	"strconv"
	"time"
)

// DSN NOTIFY bits (src/global/dsn_mask.h), as notify_flags holds them.
const (
	NotifyNever   = 1 << 0
	NotifySuccess = 1 << 1
	NotifyFailure = 1 << 2
	NotifyDelay   = 1 << 3
)

// DSN RET values (ret_flags).
const (
	RetFull = 1 << 0
	RetHdrs = 1 << 1
)

// RcptState tells a recipient record to deliver from one already handled.
type RcptState uint8

// Recipient states: R, D and / records.
const (
	RcptTodo     RcptState = iota // R: to deliver
	RcptDone                      // D: delivered
	RcptCanceled                  // /: canceled (e.g. a duplicate)
)

// Recipient is one envelope recipient with the records that go with it.
type Recipient struct {
	Addr      string    // the R (D, /) record
	Orig      string    // O: the address as the client gave it, before rewriting
	DSNOrcpt  string    // dsn_orig_rcpt: the DSN ORCPT, "type;address" ("rfc822;bob@example.test")
	Notify    int       // notify_flags: NotifyNever ... bits; 0 when not given
	State     RcptState // todo, done or canceled
	Extracted bool      // from the extracted segment (header recipients, e.g. sendmail -t)
}

// Attr is one named attribute (A record).
type Attr struct{ Name, Value string }

// Envelope is what the queue file says about the message beyond its
// content. Every record stays in the File; these are read from them.
type Envelope struct {
	Sender     string // "" for the null sender <>
	Recipients []Recipient
	Arrival    time.Time // T record
	Created    time.Time // create_time (zero when absent)

	ClientAddr        string // client_address
	ClientName        string // client_name (verified name, or "unknown")
	ReverseClientName string // reverse_client_name
	ClientPort        string // client_port
	Helo              string // helo_name
	Protocol          string // protocol_name: SMTP, ESMTP, ESMTPA ... (ESMTP plus A for SASL is in the Received header only)
	SASLMethod        string // sasl_method
	SASLUsername      string // sasl_username
	SASLSender        string // sasl_sender

	EnvID          string // DSN ENVID (envelope_id)
	Ret            int    // DSN RET: RetFull or RetHdrs; 0 when not given
	LogIdent       string // log_ident: the queue ID the message was received under
	RewriteContext string // rewrite_context: local or remote

	Attrs     []Attr // every named attribute, in order
	hasSender bool
}

// Envelope returns the message envelope as parsed (or as made by NewFile).
func (f *File) Envelope() Envelope {
	e := f.envelope
	e.Recipients = append([]Recipient(nil), e.Recipients...)
	e.Attrs = append([]Attr(nil), e.Attrs...)
	return e
}

// makeEnvelope reads the envelope from the envelope and extracted records.
// DSN and original-recipient records apply to the recipient record that
// follows them, as in the queue manager.
func makeEnvelope(env, extra []Record) Envelope {
	var e Envelope
	var pend Recipient
	walk := func(recs []Record, extracted bool) {
		for _, r := range recs {
			typ, val := r.Type, string(r.Data)
			if typ == RecAttr {
				name, v, ok := bytes.Cut(r.Data, []byte("="))
				if !ok {
					continue
				}
				e.Attrs = append(e.Attrs, Attr{string(name), string(v)})
				typ, val = attrType(string(name)), string(v)
				if typ == RecAttr {
					e.setAttr(string(name), val)
					continue
				}
			}
			switch typ {
			case RecTime:
				e.Arrival = parseTime(val)
			case RecCTime:
				if sec, err := strconv.ParseInt(val, 10, 64); err == nil {
					e.Created = time.Unix(sec, 0)
				}
			case RecFrom:
				if !e.hasSender {
					e.Sender, e.hasSender = val, true
				}
			case RecOrcp:
				pend.Orig = val
			case RecDSNOrcpt:
				pend.DSNOrcpt = val
			case RecDSNNotify:
				pend.Notify, _ = strconv.Atoi(val)
			case RecDSNEnvID:
				e.EnvID = val
			case RecDSNRet:
				e.Ret, _ = strconv.Atoi(val)
			case RecRcpt, RecDone, RecDrcp:
				pend.Addr, pend.Extracted = val, extracted
				pend.State = map[byte]RcptState{RecRcpt: RcptTodo, RecDone: RcptDone, RecDrcp: RcptCanceled}[typ]
				e.Recipients = append(e.Recipients, pend)
				pend = Recipient{}
			}
		}
	}
	walk(env, false)
	walk(extra, true)
	return e
}

// attrType maps the named attributes that stand for record types
// (rec_attr_map.c); others stay RecAttr.
func attrType(name string) byte {
	switch name {
	case "dsn_orig_rcpt":
		return RecDSNOrcpt
	case "notify_flags":
		return RecDSNNotify
	case "envelope_id":
		return RecDSNEnvID
	case "ret_flags":
		return RecDSNRet
	case "create_time":
		return RecCTime
	}
	return RecAttr
}

func (e *Envelope) setAttr(name, v string) {
	switch name {
	case "client_address":
		e.ClientAddr = v
	case "client_name":
		e.ClientName = v
	case "reverse_client_name":
		e.ReverseClientName = v
	case "client_port":
		e.ClientPort = v
	case "helo_name":
		e.Helo = v
	case "protocol_name":
		e.Protocol = v
	case "sasl_method":
		e.SASLMethod = v
	case "sasl_username":
		e.SASLUsername = v
	case "sasl_sender":
		e.SASLSender = v
	case "log_ident":
		e.LogIdent = v
	case "rewrite_context":
		e.RewriteContext = v
	}
}

// parseTime reads a T record, "sec usec" (or "sec" alone).
func parseTime(v string) time.Time {
	sec, usec := v, ""
	if i := bytes.IndexByte([]byte(v), ' '); i >= 0 {
		sec, usec = v[:i], v[i+1:]
	}
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	u, _ := strconv.ParseInt(usec, 10, 64)
	if u < 0 || u >= 1e6 {
		u = 0
	}
	return time.Unix(s, u*1000)
}
