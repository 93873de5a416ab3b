package rebuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// AttachmentFilename names the attached original message.
const AttachmentFilename = "original-message.eml"

// Attachment wraps the message (header block and body) as a
// message/rfc822 attachment named AttachmentFilename, after an inline
// text/plain; charset=utf-8 part holding text: the "attachment" spam
// action, which lets the recipient see the warning before the spam. The
// original bytes are kept exactly inside the attachment; the new
// structure uses the body's line breaks (CRLF if its first line ends so,
// else LF). boundarySeed (the queue ID, say) goes into the boundary with
// a hash of the content; the boundary never occurs in the content.
//
// The Result's header edits make the top level a multipart/mixed with
// MIME-Version 1.0 and delete the fields that described the old body
// (Content-Transfer-Encoding, Content-Length, Content-Disposition ...).
func Attachment(header, body, text, boundarySeed []byte) Result {
	nl := lineBreak(body)
	if len(body) == 0 {
		nl = lineBreak(header)
	}
	cte, enc := EncodeText(text, nl)
	b := boundary(boundarySeed, header, body, enc)
	var out bytes.Buffer
	out.Grow(len(header) + len(body) + len(enc) + 512)
	out.WriteString("This is a multi-part message in MIME format." + nl + nl)
	out.WriteString("--" + b + nl)
	out.WriteString("Content-Type: text/plain; charset=utf-8" + nl)
	out.WriteString("Content-Transfer-Encoding: " + cte + nl)
	out.WriteString("Content-Disposition: inline" + nl + nl)
	out.Write(enc)
	out.WriteString(nl + "--" + b + nl)
	out.WriteString(`Content-Type: message/rfc822; name="` + AttachmentFilename + `"` + nl)
	out.WriteString("Content-Transfer-Encoding: " + messageCTE(header, body) + nl)
	out.WriteString(`Content-Disposition: attachment; filename="` + AttachmentFilename + `"` + nl)
	out.WriteString("Content-Description: original message" + nl + nl)
	out.Write(header)
	if len(header) > 0 && header[len(header)-1] != '\n' {
		out.WriteString(nl)
	}
	out.WriteString(nl)
	out.Write(body)
	out.WriteString(nl + "--" + b + "--" + nl)
	return Result{
		Body: out.Bytes(),
		Set: []Field{{Name: "MIME-Version", Value: "1.0"},
			{Name: "Content-Type", Value: `multipart/mixed; boundary="` + b + `"`}},
		// Every field that described the old body goes.
		Delete:  append([]string{"Content-Transfer-Encoding", "Content-Length"}, contentFields...),
		Changed: true,
	}
}

// boundary returns a boundary made of a hash of seed and the content
// that occurs in none of the parts. "=_" cannot start a quoted-printable
// or base64 line; the loop makes a clash impossible.
func boundary(seed []byte, parts ...[]byte) string {
	h := sha256.New()
	h.Write(seed)
	for _, p := range parts {
		h.Write(p)
	}
	base := "=_qscan_spam_" + hex.EncodeToString(h.Sum(nil)[:12])
	b := base
	for i := 1; anyContains(parts, "--"+b); i++ {
		b = base + "_" + strconv.Itoa(i)
	}
	return b
}

func anyContains(parts [][]byte, s string) bool {
	for _, p := range parts {
		if bytes.Contains(p, []byte(s)) {
			return true
		}
	}
	return false
}

// messageCTE is the transfer encoding of the attached message: RFC 2046
// allows only 7bit, 8bit and binary for message/rfc822, and the bytes
// are kept as they are.
func messageCTE(header, body []byte) string {
	cte := "7bit"
	for _, p := range [][]byte{header, body} {
		for _, c := range p {
			if c == 0 {
				return "binary"
			}
			if c >= 0x80 {
				cte = "8bit"
			}
		}
	}
	return cte
}
