package explode

import (
	"encoding/base64"
	"strings"
)

// decodeCTE undoes a Content-Transfer-Encoding. The decoders are lenient
// (mail in the wild is often slightly broken) and run in linear time; what
// they cannot decode is passed through, so the bytes still get scanned.
func decodeCTE(data []byte, cte string) []byte {
	cte = strings.ToLower(strings.TrimSpace(cte))
	if i := strings.IndexAny(cte, " \t;("); i >= 0 {
		cte = cte[:i]
	}
	switch cte {
	case "base64":
		return decodeBase64(data)
	case "quoted-printable":
		return decodeQP(data)
	case "x-uuencode", "x-uue", "uuencode":
		if files := findUU(data, 1); len(files) == 1 {
			return files[0].Data
		}
	}
	return data
}

// decodeBase64 ignores every byte outside the alphabet (RFC 2045 says
// decoders must) and stops at the first '=' padding.
func decodeBase64(in []byte) []byte {
	// Filter and decode in chunks, so that a large part costs its decoded
	// size and no full copy of the encoded text.
	const chunk = 64 << 10 // a multiple of 4
	out := make([]byte, 0, len(in)/4*3+3)
	// Well-formed base64 (line breaks are skipped) takes the library's
	// fast path; anything else the lenient loop below.
	if n, err := base64.StdEncoding.Decode(out[:cap(out)], in); err == nil {
		return out[:n]
	}
	buf := make([]byte, 0, chunk)
	flush := func(final bool) {
		if final && len(buf)%4 == 1 {
			buf = buf[:len(buf)-1]
		}
		n, _ := base64.RawStdEncoding.Decode(out[len(out):cap(out)], buf)
		out = out[:len(out)+n]
		buf = buf[:0]
	}
	for _, c := range in {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			buf = append(buf, c)
			if len(buf) == chunk {
				flush(false)
			}
		case c == '=':
			flush(true)
			return out
		}
	}
	flush(true)
	return out
}

// decodeQP decodes quoted-printable: "=XX" escapes and "=" soft line
// breaks (with trailing blanks tolerated); a malformed escape is kept as is.
func decodeQP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(in) && isHex(in[i+1]) && isHex(in[i+2]) {
			out = append(out, unhex(in[i+1])<<4|unhex(in[i+2]))
			i += 2
			continue
		}
		j := i + 1
		for j < len(in) && (in[j] == ' ' || in[j] == '\t') {
			j++
		}
		switch {
		case j < len(in) && in[j] == '\n':
			i = j
		case j+1 < len(in) && in[j] == '\r' && in[j+1] == '\n':
			i = j + 1
		case j == len(in):
			i = j
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
