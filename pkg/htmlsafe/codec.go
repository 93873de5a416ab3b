package htmlsafe

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
	"strings"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// codec decodes a part's body to UTF-8 and encodes it back in the same
// charset and transfer encoding.
type codec struct {
	cte      string // "", "quoted-printable" or "base64" (identity otherwise)
	enc      encoding.Encoding
	nl       string // the part's line break
	trailing []byte // line breaks and blanks that end the raw body
}

// newCodec returns the codec of a part, false when its transfer encoding
// is unknown (then the part is left alone).
func newCodec(raw []byte, cte, cs string) (codec, bool) {
	c := codec{nl: "\n"}
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		c.nl = "\r\n"
	}
	switch cte = strings.ToLower(strings.TrimSpace(cte)); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable", "base64":
		c.cte = cte
	default:
		return c, false
	}
	cs = strings.ToLower(strings.TrimSpace(cs))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	default:
		if e, _ := charset.Lookup(cs); e != nil {
			c.enc = e
		}
	}
	c.trailing = raw[len(bytes.TrimRight(raw, " \t\r\n")):]
	return c, true
}

// decode returns the part's text in UTF-8.
func (c codec) decode(raw []byte) []byte {
	var b []byte
	switch c.cte {
	case "quoted-printable":
		b = decodeQP(raw)
	case "base64":
		b = decodeBase64(raw)
	default:
		b = raw
	}
	if c.enc != nil {
		if u, _, err := transform.Bytes(c.enc.NewDecoder(), b); err == nil {
			return u
		}
	}
	return b
}

// encode turns UTF-8 text back into the part's charset (characters it
// lacks as HTML references, or "?" in text) and transfer encoding.
func (c codec) encode(text []byte, isHTML bool) []byte {
	b := text
	if c.enc != nil {
		var e transform.Transformer = encoding.ReplaceUnsupported(c.enc.NewEncoder())
		if isHTML {
			e = encoding.HTMLEscapeUnsupported(c.enc.NewEncoder())
		}
		if x, _, err := transform.Bytes(e, text); err == nil {
			b = x
		}
	}
	switch c.cte {
	case "quoted-printable":
		var out bytes.Buffer
		w := quotedprintable.NewWriter(&out)
		w.Write(b)
		w.Close()
		b = out.Bytes()
		if c.nl == "\n" {
			b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		}
	case "base64":
		s := base64.StdEncoding.EncodeToString(b)
		var out bytes.Buffer
		for len(s) > 76 {
			out.WriteString(s[:76] + c.nl)
			s = s[76:]
		}
		out.WriteString(s)
		b = out.Bytes()
	default:
		return b
	}
	return append(bytes.TrimRight(b, " \t\r\n"), c.trailing...)
}

// decodeQP decodes quoted-printable leniently: a "=" that starts no
// escape stays as it is.
func decodeQP(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		if ch != '=' {
			out = append(out, ch)
			continue
		}
		rest := raw[i+1:]
		switch {
		case len(rest) >= 2 && isHex(rest[0]) && isHex(rest[1]):
			out = append(out, unhex(rest[0])<<4|unhex(rest[1]))
			i += 2
		case len(rest) >= 1 && rest[0] == '\n':
			i++
		case len(rest) >= 2 && rest[0] == '\r' && rest[1] == '\n':
			i += 2
		default:
			// "=" followed by blanks then a line break is a soft break too.
			k := 0
			for k < len(rest) && (rest[k] == ' ' || rest[k] == '\t') {
				k++
			}
			if k < len(rest) && (rest[k] == '\n' || rest[k] == '\r') {
				i += k
				if rest[k] == '\r' && k+1 < len(rest) && rest[k+1] == '\n' {
					i++
				}
				i++
				continue
			}
			out = append(out, ch)
		}
	}
	return out
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// decodeBase64 decodes leniently: characters outside the alphabet are
// skipped, decoding stops at padding.
func decodeBase64(raw []byte) []byte {
	clean := make([]byte, 0, len(raw))
	for _, ch := range raw {
		switch {
		case ch == '=':
			goto done
		case (ch|0x20 >= 'a' && ch|0x20 <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/':
			clean = append(clean, ch)
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}
