package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// ErrBadAddress means an address cannot go into a header safely.
var ErrBadAddress = errors.New("notify: unusable address")

// Defaults of MailOptions.
const (
	DefaultMaxSubject  = 200     // runes, before encoding
	DefaultMaxMailBody = 1 << 20 // bytes
	maxAddress         = 320
)

// Mail is a report to send. The caller queues it with the null envelope
// sender (<>), so that it never bounces back to anyone.
type Mail struct {
	From     string   // address, e.g. "postmaster@example.org"
	FromName string   // display name, e.g. "qscan"
	To       []string // addresses
	Subject  string   // any text: sanitised and encoded here
	Body     []byte   // UTF-8 text
}

// MailOptions shape the header of a report mail.
type MailOptions struct {
	Now      func() time.Time // the clock; required
	Hostname string           // right side of Message-ID; default "localhost"
	// OrgName gives the "X-<OrgName>-QScan: generated" field; "" gives
	// "X-QScan: generated".
	OrgName    string
	Rand       io.Reader // Message-ID randomness; default crypto/rand
	MaxSubject int       // runes; default DefaultMaxSubject
	MaxBody    int       // bytes; default DefaultMaxMailBody
}

// Bytes renders m as an RFC 5322 message with LF line ends: Date, From,
// To, Subject (RFC 2047 when needed), Message-ID, MIME-Version,
// Content-Type text/plain; charset=utf-8, Content-Transfer-Encoding (7bit
// or quoted-printable), Auto-Submitted: auto-generated and the X-QScan
// field, a blank line and the body.
func (m Mail) Bytes(opt MailOptions) ([]byte, error) {
	if opt.Now == nil {
		return nil, fmt.Errorf("notify mail: no clock")
	}
	if err := validAddress(m.From); err != nil {
		return nil, fmt.Errorf("notify mail from: %w", err)
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("notify mail to: %w: no recipient", ErrBadAddress)
	}
	for _, a := range m.To {
		if err := validAddress(a); err != nil {
			return nil, fmt.Errorf("notify mail to: %w", err)
		}
	}
	maxBody := opt.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxMailBody
	}
	if len(m.Body) > maxBody {
		return nil, fmt.Errorf("notify mail body: %w: %d bytes, limit %d", ErrTooLarge, len(m.Body), maxBody)
	}
	id, err := messageID(opt)
	if err != nil {
		return nil, err
	}
	maxSubject := opt.MaxSubject
	if maxSubject <= 0 {
		maxSubject = DefaultMaxSubject
	}
	cte, body := encodeBody(m.Body)
	var b bytes.Buffer
	b.WriteString("Date: " + opt.Now().Format(time.RFC1123Z) + "\n")
	b.WriteString("From: " + mailbox(m.FromName, m.From) + "\n")
	b.WriteString("To: " + strings.Join(m.To, ",\n ") + "\n")
	b.WriteString("Subject: " + HeaderValue(m.Subject, maxSubject) + "\n")
	b.WriteString("Message-ID: " + id + "\n")
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\n")
	b.WriteString("Content-Transfer-Encoding: " + cte + "\n")
	b.WriteString("Auto-Submitted: auto-generated\n")
	b.WriteString(message.QScanHeader(opt.OrgName, "") + ": generated\n")
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes(), nil
}

// validAddress accepts a bare address made of printable ASCII without
// blanks or the characters that would end or split a header address.
func validAddress(a string) error {
	if a == "" || len(a) > maxAddress {
		return fmt.Errorf("%w: %d bytes", ErrBadAddress, len(a))
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`<>()[],;:"\`, c) >= 0 {
			return fmt.Errorf("%w: %q", ErrBadAddress, a)
		}
	}
	return nil
}

// mailbox formats "Name" <addr>, the name quoted or RFC 2047 encoded.
func mailbox(name, addr string) string {
	name = line(name)
	if name == "" {
		return addr
	}
	if isPrintableASCII(name) && !strings.Contains(name, "=?") {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return `"` + r.Replace(truncate(name, 100)) + `" <` + addr + ">"
	}
	return HeaderValue(name, 100) + " <" + addr + ">"
}

func messageID(opt MailOptions) (string, error) {
	r := opt.Rand
	if r == nil {
		r = rand.Reader
	}
	var n [10]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", fmt.Errorf("notify message-id: %w", err)
	}
	host := opt.Hostname
	if host == "" || validAddress(host) != nil || strings.Contains(host, "@") {
		host = "localhost"
	}
	return "<" + opt.Now().UTC().Format("20060102150405") + "." + hex.EncodeToString(n[:]) + "@" + host + ">", nil
}

// encodeBody gives the body LF line ends and a final one, and picks 7bit
// for short-lined ASCII, quoted-printable otherwise (no 8BITMIME needed).
func encodeBody(body []byte) (cte string, out []byte) {
	t := cleanText(bytes.Clone(body))
	if len(t) == 0 || t[len(t)-1] != '\n' {
		t = append(t, '\n')
	}
	long := false
	for _, l := range bytes.Split(t, []byte("\n")) {
		if len(l) > 900 {
			long = true
		}
	}
	if !long && isPrintableASCII(strings.ReplaceAll(strings.ReplaceAll(string(t), "\n", ""), "\t", "")) {
		return "7bit", t
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write(t) // a bytes.Buffer does not fail
	w.Close()
	return "quoted-printable", bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n"))
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// HeaderValue makes any text safe as an unstructured header value (a
// Subject): one logical line without control characters, at most max
// runes (cut with "..."), printable ASCII as is, otherwise RFC 2047
// encoded words; folded with LF + space so that no line exceeds 78
// characters after a short field name.
func HeaderValue(s string, max int) string {
	s = line(s)
	if r := []rune(s); len(r) > max && max > 3 {
		s = string(r[:max-3]) + "..."
	}
	if isPrintableASCII(s) && !strings.Contains(s, "=?") && !hasLongWord(s) {
		return foldASCII(s)
	}
	var words []string
	var chunk []rune
	for _, r := range s {
		chunk = append(chunk, r)
		if len(string(chunk)) >= 18 { // 18+3 bytes Q-encode within RFC 2047's 75
			words = append(words, qWord(string(chunk)))
			chunk = chunk[:0]
		}
	}
	if len(chunk) > 0 {
		words = append(words, qWord(string(chunk)))
	}
	return strings.Join(words, "\n ")
}

// qWord is s as one RFC 2047 "Q" encoded word, always encoded: adjacent
// encoded words are joined without blanks by readers, plain ones are not.
func qWord(s string) string {
	var b strings.Builder
	b.WriteString("=?utf-8?q?")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("!*+-/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

func hasLongWord(s string) bool {
	for _, w := range strings.Split(s, " ") {
		if len(w) > 70 {
			return true
		}
	}
	return false
}

// foldASCII folds s at blanks so that lines stay near 70 characters.
func foldASCII(s string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Split(s, " ") {
		if i > 0 {
			if n+1+len(w) > 70 && n > 0 {
				b.WriteString("\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
