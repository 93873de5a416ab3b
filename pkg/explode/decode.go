package explode

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// decoded is what a decoder produced from one encoded text.
type decoded struct {
	Data []byte
	// Alt is a second reading that other decoders deliver (base64 with
	// data after a padding '='), nil when every decoder agrees.
	Alt []byte
	// Cut is set when the output was stopped at the byte budget.
	Cut bool
}

// decodeCTE undoes a Content-Transfer-Encoding, producing at most max
// bytes (a longer output is cut there and flagged). The decoders are
// lenient (mail in the wild is often slightly broken) and run in linear
// time; what they cannot decode is passed through, so the bytes still get
// scanned.
func decodeCTE(data []byte, cte string, max int64) decoded {
	cte = strings.ToLower(strings.TrimSpace(cte))
	if i := strings.IndexAny(cte, " \t;("); i >= 0 {
		cte = cte[:i]
	}
	switch cte {
	case "base64":
		return decodeBase64(data, max)
	case "quoted-printable":
		out, ok := decodeQP(data, max)
		return decoded{Data: out, Cut: !ok}
	case "x-uuencode", "x-uue", "uuencode":
		if files, ok := findUU(data, 1, max); len(files) == 1 || !ok {
			var out []byte
			if len(files) == 1 {
				out = files[0].Data
			}
			return decoded{Data: out, Cut: !ok}
		}
	}
	return decoded{Data: data}
}

// base64Value maps the base64 alphabet to its values, other bytes to -1
// and '=' to -2.
var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = int8(i)
	}
	t['='] = -2
	return t
}()

// decodeBase64 decodes as permissively as the most permissive mail
// client: every byte outside the alphabet is skipped (RFC 2045 says
// decoders must), and a '=' padding ends the current 4-character group
// but not the data, so what follows an early "QQ==" is decoded too (the
// readers that stop there get a prefix of it). Decoders that drop a '='
// in mid-stream without ending the group read the rest shifted: when the
// text has data after a padding, that reading is returned as Alt, so that
// both get scanned.
func decodeBase64(in []byte, max int64) decoded {
	est := int64(len(in)/4*3 + 3)
	var out []byte
	if est <= max {
		// Well-formed base64 (line breaks are skipped) takes the
		// library's fast path; anything else the lenient loop below,
		// into the same buffer.
		out = make([]byte, est)
		if n, err := base64.StdEncoding.Decode(out, in); err == nil {
			return decoded{Data: out[:n]}
		}
	} else {
		out = make([]byte, 0, max)
	}
	d := base64Decoder{out: out[:0], max: max, realign: true}
	d.decode(in)
	res := decoded{Data: d.out, Cut: d.cut}
	if d.padInside && !d.cut {
		alt := base64Decoder{out: make([]byte, 0, min(est, max-int64(len(d.out)))), max: max - int64(len(d.out))}
		alt.decode(in)
		if !bytes.Equal(alt.out, d.out) {
			res.Alt, res.Cut = alt.out, alt.cut
		}
	}
	return res
}

// base64Decoder is the lenient decoder, output bounded by max.
type base64Decoder struct {
	out       []byte
	max       int64
	realign   bool // '=' ends the group (else it is skipped like garbage)
	cut       bool // output reached max with data left
	padInside bool // alphabet data came after a '='
}

func (d *base64Decoder) decode(in []byte) {
	var acc uint32
	n, padded := 0, false
	emit := func(b ...byte) bool {
		if int64(len(d.out)+len(b)) > d.max {
			d.cut = true
			return false
		}
		d.out = append(d.out, b...)
		return true
	}
	flush := func() bool {
		switch n {
		case 2:
			return emit(byte(acc >> 4))
		case 3:
			return emit(byte(acc>>10), byte(acc>>2))
		}
		return true
	}
	for _, c := range in {
		v := base64Value[c]
		switch {
		case v == -2:
			padded = true
			if d.realign && n > 0 {
				if !flush() {
					return
				}
				acc, n = 0, 0
			}
			continue
		case v < 0:
			continue
		}
		if padded {
			d.padInside = true
		}
		acc = acc<<6 | uint32(v)
		if n++; n == 4 {
			if !emit(byte(acc>>16), byte(acc>>8), byte(acc)) {
				return
			}
			acc, n = 0, 0
		}
	}
	flush()
}

// decodeQP decodes quoted-printable: "=XX" escapes and "=" soft line
// breaks (with trailing blanks tolerated); a malformed escape is kept as is,
// as RFC 2045 recommends and the common decoders do. At most max bytes are
// produced; ok is false when the output was cut there.
func decodeQP(in []byte, max int64) (out []byte, ok bool) {
	out = make([]byte, 0, min(int64(len(in)), max))
	put := func(c byte) bool {
		if int64(len(out)) >= max {
			return false
		}
		out = append(out, c)
		return true
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '=' {
			if !put(c) {
				return out, false
			}
			continue
		}
		if i+2 < len(in) && isHex(in[i+1]) && isHex(in[i+2]) {
			if !put(unhex(in[i+1])<<4 | unhex(in[i+2])) {
				return out, false
			}
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
			if !put(c) {
				return out, false
			}
		}
	}
	return out, true
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
