package rebuild

// The bodies that the "striphtml" and "attachment" spam actions deliver:
// the message with its HTML parts made plain text (this file), or the
// original message wrapped as an attachment under a warning text
// (attachment.go). Both are pure functions of the message bytes: they
// return a new body and the top-level header edits (a Result), which the
// caller applies as it does for a cleaned message.

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
)

// DefaultMaxTokens is the default of HTMLLimits.MaxTokens (MaxParts and
// MaxDepth default to DefaultMaxParts and DefaultMaxDepth). More MIME
// structure than HTMLLimits allow is ErrTooComplex: deliver the message
// without the conversion (or as the policy says).
const DefaultMaxTokens = 200000

// HTMLLimits bound the work of StripHTML. The zero value uses the defaults.
type HTMLLimits struct {
	MaxTokens int // HTML tokens read per part; default 200000
	MaxParts  int // MIME parts, and lines naming a boundary; default 1000
	MaxDepth  int // multipart and message/rfc822 nesting; default 50
}

func (l HTMLLimits) withDefaults() HTMLLimits {
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultMaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// StripHTML replaces every text/html part of the message (the whole body
// when it is HTML, or a part of its multiparts, but not an HTML
// attachment nor anything inside an attached message) by an inline
// text/plain; charset=utf-8 part holding its text (see HTMLText; the
// texts together are cut to the body's length, since charset decoding can
// make HTML longer). Every other byte of the body is kept. A message
// without such a part comes back unchanged (Result.Changed false).
// Errors are rebuild's
// (ErrAmbiguous for MIME that parsers read differently) or
// ErrTooComplex.
func StripHTML(header, body []byte, lim HTMLLimits) (Result, error) {
	lim = lim.withDefaults()
	if n := boundaryLines(header, body); n > lim.MaxParts {
		return Result{}, fmt.Errorf("rebuild striphtml: %w: %d boundary lines", ErrTooComplex, n)
	}
	parts, err := htmlParts(header, body, lim)
	if err != nil {
		return Result{}, err
	}
	if len(parts) == 0 {
		return Result{Body: body}, nil
	}
	opt := Options{InlineParts: true, MaxDepth: lim.MaxDepth, MaxParts: lim.MaxParts}
	var repl []Replacement
	budget := len(body) // all the texts together are never longer than the body
	for _, p := range parts {
		text, _ := HTMLText(p.html, lim.MaxTokens)
		if len(text) > budget {
			text = cutText(text, budget)
		}
		budget -= len(text)
		opt.MaxTextBytes = max(opt.MaxTextBytes, len(text), DefaultMaxTextBytes)
		repl = append(repl, Replacement{MIMEPath: p.path, Text: text, Convert: true})
	}
	res, err := Rebuild(header, body, repl, opt)
	if err != nil {
		return Result{}, fmt.Errorf("rebuild striphtml: %w", err)
	}
	return res, nil
}

// cutText cuts text to at most n bytes at a rune boundary, the last one
// a line break (which rebuild would add otherwise).
func cutText(text []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	text = text[:n-1]
	for len(text) > 0 && !utf8.Valid(text) {
		text = text[:len(text)-1]
	}
	return append(text, '\n')
}

// htmlPart is one HTML part to convert: its MIME path (numbered as
// pkg/explode and pkg/rebuild number parts) and its decoded content.
type htmlPart struct {
	path string
	html []byte
}

// htmlParts finds the HTML parts to convert. The parser is configured as
// pkg/explode configures it, so that paths agree, except that it decodes
// the transfer encoding and the charset (to UTF-8).
func htmlParts(header, body []byte, lim HTMLLimits) ([]htmlPart, error) {
	raw := make([]byte, 0, len(header)+2+len(body))
	raw = append(raw, header...)
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		raw = append(raw, '\n')
	}
	raw = append(raw, '\n')
	raw = append(raw, body...)
	p := enmime.NewParser(enmime.SkipMalformedParts(true), enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.DisableCharacterDetection(true), enmime.DisableTextConversion(true), enmime.MaxStoredPartErrors(20))
	root, err := p.ReadParts(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("rebuild striphtml: %w: %v", ErrAmbiguous, err)
	}
	type item struct {
		p     *enmime.Part
		depth int
	}
	var out []htmlPart
	count := 0
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if count++; count > lim.MaxParts || it.depth > lim.MaxDepth {
			return nil, fmt.Errorf("rebuild striphtml: %w: over %d parts or %d levels", ErrTooComplex, lim.MaxParts, lim.MaxDepth)
		}
		var kids []item
		for c := it.p.FirstChild; c != nil; c = c.NextSibling {
			kids = append(kids, item{c, it.depth + 1})
		}
		for i := len(kids) - 1; i >= 0; i-- { // document order
			stack = append(stack, kids[i])
		}
		if len(kids) == 0 && isInlineHTML(it.p) {
			out = append(out, htmlPart{path: partPath(it.p.PartID), html: it.p.Content})
		}
	}
	return out, nil
}

// isInlineHTML tells an HTML part that is the message's text, not an
// attachment.
func isInlineHTML(p *enmime.Part) bool {
	return strings.EqualFold(p.ContentType, "text/html") && !strings.EqualFold(p.Disposition, "attachment")
}

// partPath turns an enmime PartID into a MIME path: a single-part body is
// part "1", as in IMAP.
func partPath(id string) string {
	id = strings.TrimSuffix(id, ".0")
	if id == "0" || id == "" {
		return "1"
	}
	return id
}

// boundaryLines counts the lines that mention a boundary, a cheap bound
// on MIME nesting before any parser recurses into it.
func boundaryLines(header, body []byte) int {
	n := 0
	for _, b := range [][]byte{header, body} {
		for len(b) > 0 {
			line := b
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				line, b = b[:i], b[i+1:]
			} else {
				b = nil
			}
			if containsWordFold(line, "boundary") {
				n++
			}
		}
	}
	return n
}

// containsWordFold reports whether s contains the lower-case ASCII word w in
// any case.
func containsWordFold(s []byte, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(string(s[i:i+len(w)]), w) {
			return true
		}
	}
	return false
}
