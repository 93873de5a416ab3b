package reinject

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/pkg/spool"
)

// Reply is a downstream SMTP reply.
type Reply struct {
	Code     int    // 250, 451, 550, ...; 0 when there was no reply (network error)
	Enhanced string // "5.1.1"; "" when the server gave none
	Text     string // the reply text, printable ASCII, bounded
}

func (r Reply) String() string {
	s := fmt.Sprint(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}

// Status returns the enhanced status code for a DSN: the server's, or
// "X.0.0" from the reply class.
func (r Reply) Status() string {
	if r.Enhanced != "" {
		return r.Enhanced
	}
	if c := r.Code / 100; c == 4 || c == 5 {
		return fmt.Sprintf("%d.0.0", c)
	}
	return "4.0.0"
}

// RcptResult is the outcome for one recipient.
type RcptResult struct {
	Recipient spool.Recipient
	Reply     Reply
}

// Result is the outcome of a message that reached the RCPT stage without
// a whole-message failure.
type Result struct {
	// Accepted recipients have the message (the downstream said 250 to
	// its DATA; Reply holds that reply). Nothing was sent when empty.
	Accepted []RcptResult
	// Deferred recipients got 4xx to RCPT: keep the message for them
	// (spool.Locked.ReplaceEnvelope) and retry with backoff.
	Deferred []RcptResult
	// Rejected recipients got 5xx to RCPT: final; send a DSN
	// (reinject.DSN) or hold the message, as smtp.on_reject says.
	Rejected []RcptResult
	// Data is the downstream's reply to the end of DATA ("250 2.0.0 Ok:
	// queued as ..."), for the log; zero when no DATA was sent.
	Data Reply
}

// Done reports whether every recipient has a final outcome (none
// deferred): the spool entry can be released once the result is
// journalled.
func (r *Result) Done() bool { return len(r.Deferred) == 0 }

// TempError means nothing was delivered and nothing is final: keep the
// whole message and retry it later with backoff. Connection failures,
// timeouts, a 4xx to MAIL or DATA and every recipient deferred are
// temporary; an error of unknown kind is temporary too.
type TempError struct {
	Stage string // "connect", "XFORWARD", "MAIL", "RCPT", "DATA"
	Reply Reply  // Code 0 for a network error
	Err   error
}

func (e *TempError) Error() string {
	if e.Reply.Code != 0 {
		return fmt.Sprintf("reinject %s: temporary failure: %s", e.Stage, e.Reply)
	}
	return fmt.Sprintf("reinject %s: temporary failure: %v", e.Stage, e.Err)
}

func (e *TempError) Unwrap() error { return e.Err }

// PermError means the downstream refused the whole message (5xx to MAIL or
// to DATA, or a condition that cannot change, such as SMTPUTF8 not
// offered): nothing was delivered; Rejected has every recipient with its
// reply, for the DSN or the hold.
type PermError struct {
	Stage    string
	Reply    Reply
	Rejected []RcptResult
	Err      error
}

func (e *PermError) Error() string {
	return fmt.Sprintf("reinject %s: refused: %s", e.Stage, e.Reply)
}

func (e *PermError) Unwrap() error { return e.Err }

// IsTemporary reports whether err means "retry later": anything but a
// PermError.
func IsTemporary(err error) bool {
	var pe *PermError
	return err != nil && !errors.As(err, &pe)
}

// replyOf turns a go-smtp error into a Reply; ok is false for errors that
// are not server replies.
func replyOf(err error) (Reply, bool) {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return Reply{}, false
	}
	r := Reply{Code: se.Code, Text: clean(se.Message)}
	if ec := se.EnhancedCode; ec != smtp.NoEnhancedCode && ec != smtp.EnhancedCodeNotSet {
		r.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
	}
	return r, true
}

// clean keeps a reply text printable and bounded: it goes into logs and
// DSNs.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return ' '
		}
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
