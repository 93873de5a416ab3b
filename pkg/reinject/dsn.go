package reinject

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/spool"
)

// DSNOptions configure the delivery status notifications.
type DSNOptions struct {
	// ReportingMTA names this host in the report ("mx1.example.org").
	ReportingMTA string
	// RemoteMTA names the downstream that refused ("127.0.0.1"); "" leaves
	// the field out.
	RemoteMTA string
	// MaxReturnBytes bounds the original message returned whole
	// (RET=FULL or no RET); a larger one is returned as its header only.
	// Default 1 MiB.
	MaxReturnBytes int64
	// MaxHeaderBytes bounds the header returned; default 256 KiB.
	MaxHeaderBytes int64
	// QueueID, if set, is named in the report (X-Qscan-Queue-ID).
	QueueID string
}

// WantsDSN reports whether a failure report is due for r: NOTIFY absent
// (the default is FAILURE,DELAY) or naming FAILURE.
func WantsDSN(r spool.Recipient) bool {
	if r.Notify == nil {
		return true
	}
	for _, n := range r.Notify {
		if n == "FAILURE" {
			return true
		}
	}
	return false
}

// DSNEnvelope returns the envelope of a DSN about env: from the null
// sender (never bounced in turn) to env's sender.
func DSNEnvelope(env *spool.Envelope, now time.Time) *spool.Envelope {
	return &spool.Envelope{Received: now.UTC(), Protocol: "ESMTP", Sender: "", SMTPUTF8: env.SMTPUTF8,
		Recipients: []spool.Recipient{{Addr: env.Sender, Notify: []string{"NEVER"}}}}
}

// DSN builds the failure report (RFC 3464: multipart/report with a
// message/delivery-status part; message/global-delivery-status for an
// SMTPUTF8 message, RFC 6533) about the rejected recipients of the message
// env + original, at time now. It returns nil when none is due: a null
// sender, or no rejected recipient whose NOTIFY asks for failures (the
// caller logs those). The original is returned whole (RET=FULL or no RET,
// up to MaxReturnBytes) or as its header. The result has LF line ends, as
// Message.Data and the spool take it.
func DSN(o DSNOptions, env *spool.Envelope, rejected []RcptResult, original io.Reader, now time.Time) ([]byte, error) {
	if o.MaxReturnBytes <= 0 {
		o.MaxReturnBytes = 1 << 20
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 256 << 10
	}
	if env.Sender == "" {
		return nil, nil
	}
	var due []RcptResult
	for _, r := range rejected {
		if WantsDSN(r.Recipient) {
			due = append(due, r)
		}
	}
	if len(due) == 0 {
		return nil, nil
	}
	orig, full, err := returned(o, env, original)
	if err != nil {
		return nil, err
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	boundary := "qscan-dsn-" + hex.EncodeToString(rnd[:])
	host := clean(o.ReportingMTA)
	if host == "" {
		host = "localhost"
	}
	statusType, origType := "message/delivery-status", "message/rfc822"
	if env.SMTPUTF8 {
		statusType, origType = "message/global-delivery-status", "message/global"
	}
	if !full {
		origType = "text/rfc822-headers"
		if env.SMTPUTF8 {
			origType = "message/global-headers"
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", host)
	fmt.Fprintf(&b, "To: <%s>\n", env.Sender)
	b.WriteString("Subject: Undelivered Mail Returned to Sender\n")
	fmt.Fprintf(&b, "Date: %s\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\n", hex.EncodeToString(rnd[:]), host)
	b.WriteString("Auto-Submitted: auto-replied\nMIME-Version: 1.0\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n\n", boundary)
	b.WriteString("This is a MIME-encapsulated message.\n\n")

	fmt.Fprintf(&b, "--%s\nContent-Description: Notification\nContent-Type: text/plain; charset=utf-8\n\n", boundary)
	fmt.Fprintf(&b, "This is the mail system at host %s.\n\n", host)
	b.WriteString("Your message could not be delivered to one or more recipients:\n")
	b.WriteString("the mail server it was handed to after the content check refused them.\n\n")
	for _, r := range due {
		fmt.Fprintf(&b, "<%s>: %s\n", r.Recipient.Addr, r.Reply)
	}

	fmt.Fprintf(&b, "\n--%s\nContent-Description: Delivery report\nContent-Type: %s\n\n", boundary, statusType)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\n", host)
	if o.QueueID != "" {
		fmt.Fprintf(&b, "X-Qscan-Queue-ID: %s\n", clean(o.QueueID))
	}
	if env.EnvID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\n", clean(env.EnvID))
	}
	if !env.Received.IsZero() {
		fmt.Fprintf(&b, "Arrival-Date: %s\n", env.Received.Format(time.RFC1123Z))
	}
	for _, r := range due {
		b.WriteString("\n")
		if r.Recipient.ORcpt != "" {
			fmt.Fprintf(&b, "Original-Recipient: %s; %s\n", strings.ToLower(r.Recipient.ORcptType), r.Recipient.ORcpt)
		}
		fmt.Fprintf(&b, "Final-Recipient: %s; %s\n", addrType(r.Recipient.Addr), r.Recipient.Addr)
		fmt.Fprintf(&b, "Action: failed\nStatus: %s\n", r.Reply.Status())
		if o.RemoteMTA != "" {
			fmt.Fprintf(&b, "Remote-MTA: dns; %s\n", clean(o.RemoteMTA))
		}
		fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\n", r.Reply)
	}

	desc := "Undelivered Message"
	if !full {
		desc = "Undelivered Message Headers"
	}
	fmt.Fprintf(&b, "\n--%s\nContent-Description: %s\nContent-Type: %s\n\n", boundary, desc, origType)
	b.Write(orig)
	if len(orig) > 0 && orig[len(orig)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	return b.Bytes(), nil
}

func addrType(a string) string {
	if printableASCII(a) {
		return "rfc822"
	}
	return "utf-8"
}

// returned reads what of the original goes back: all of it when allowed
// and small enough (full), else its header. CRLF become LF.
func returned(o DSNOptions, env *spool.Envelope, original io.Reader) ([]byte, bool, error) {
	if original == nil {
		return nil, false, nil
	}
	wantFull := env.Return != "HDRS"
	limit := o.MaxHeaderBytes
	if wantFull {
		limit = max(o.MaxReturnBytes, o.MaxHeaderBytes)
	}
	data, err := io.ReadAll(io.LimitReader(original, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("dsn: read original: %w", err)
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if wantFull && int64(len(data)) <= o.MaxReturnBytes {
		return data, true, nil
	}
	var hdr bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), len(data)+1)
	for sc.Scan() && int64(hdr.Len()) < o.MaxHeaderBytes {
		if sc.Text() == "" {
			break
		}
		hdr.WriteString(sc.Text())
		hdr.WriteByte('\n')
	}
	return hdr.Bytes(), false, nil
}
