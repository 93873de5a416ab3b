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
	clean := make([]byte, 0, len(in))
	for _, c := range in {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			goto done
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
