package main

// Text from a quarantined message made safe for a terminal.

import (
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quarOr returns s, or def when s is empty.
func quarOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// quarDecode decodes RFC 2047 encoded words; undecodable text is kept.
func quarDecode(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// quarClean makes text from a message safe for a terminal line: invalid
// UTF-8, control and format characters (escape sequences, bidi overrides)
// become spaces, runs of space one, and it is cut to max runes.
func quarClean(s string, max int) string {
	var b strings.Builder
	n, space := 0, false
	for i := 0; i < len(s) && n < max; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
		if n == max && i < len(s) {
			return b.String() + "..."
		}
	}
	return b.String()
}
