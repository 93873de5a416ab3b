package explode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"regexp"
)

// embedded is a file found inside a text body.
type embedded struct {
	Name string
	Data []byte
}

var uuBegin = regexp.MustCompile(`^begin(?:-base64)? [0-7]{3,4} (.+)$`)

// findUU decodes up to max uuencoded blocks ("begin 644 name" … "end").
// A block without its "end" line is decoded as far as it goes.
func findUU(data []byte, max int) []embedded {
	if !bytes.HasPrefix(data, []byte("begin ")) && !bytes.Contains(data, []byte("\nbegin ")) {
		return nil
	}
	var out []embedded
	rest := data
	for len(rest) > 0 && len(out) < max {
		line := nextLine(&rest)
		m := uuBegin.FindSubmatch(line)
		if m == nil || bytes.HasPrefix(line, []byte("begin-base64")) {
			continue
		}
		f := embedded{Name: string(bytes.TrimSpace(m[1]))}
		for len(rest) > 0 {
			l := nextLine(&rest)
			if bytes.Equal(bytes.TrimSpace(l), []byte("end")) {
				break
			}
			f.Data = append(f.Data, uuLine(l)...)
		}
		out = append(out, f)
	}
	return out
}

// uuLine decodes one uuencoded line; a line shorter than it claims is
// decoded as far as it goes.
func uuLine(l []byte) []byte {
	if len(l) == 0 {
		return nil
	}
	n := int((l[0] - ' ') & 63)
	out := make([]byte, 0, n+2)
	for i := 1; i < len(l) && len(out) < n; i += 4 {
		var q [4]byte
		for k := range 4 {
			if i+k < len(l) {
				q[k] = (l[i+k] - ' ') & 63
			}
		}
		out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
	}
	return out[:min(n, len(out))]
}

const binhexMarker = "(This file must be converted with BinHex"

// binhexAlphabet maps BinHex 4.0 characters to 6-bit values.
const binhexAlphabet = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"

var errBinHex = errors.New("explode binhex: malformed data")

// findBinHex decodes the data fork of a BinHex 4.0 block, if any.
func findBinHex(data []byte, maxOut int64) (embedded, bool, error) {
	i := bytes.Index(data, []byte(binhexMarker))
	if i < 0 {
		return embedded{}, false, nil
	}
	data = data[i+len(binhexMarker):]
	start := bytes.IndexByte(data, ':')
	if start < 0 {
		return embedded{}, true, errBinHex
	}
	sixbit := binhexSixBit(data[start+1:])
	raw := binhexRLE(sixbit, maxOut)
	// header: name length, name, 0, type 4, creator 4, flags 2, data length 4, rsrc length 4, crc 2
	if len(raw) < 1 || len(raw) < 1+int(raw[0])+1+4+4+2+4+4+2 {
		return embedded{}, true, errBinHex
	}
	nl := int(raw[0])
	name := string(raw[1 : 1+nl])
	h := raw[1+nl+1:]
	dlen := int(binary.BigEndian.Uint32(h[10:14]))
	body := h[4+4+2+4+4+2:]
	if dlen > len(body) {
		dlen = len(body)
	}
	return embedded{Name: name, Data: body[:dlen]}, true, nil
}

// binhexSixBit turns the text between the colons into bytes.
func binhexSixBit(text []byte) []byte {
	var table [256]int8
	for i := range table {
		table[i] = -1
	}
	for i := 0; i < len(binhexAlphabet); i++ {
		table[binhexAlphabet[i]] = int8(i)
	}
	var out []byte
	var acc uint32
	bits := 0
	for _, c := range text {
		if c == ':' {
			break
		}
		v := table[c]
		if v < 0 {
			continue // line ends and blanks
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out
}

// binhexRLE expands the 0x90 run-length encoding, up to maxOut bytes (runs
// can grow the input 127 times).
func binhexRLE(in []byte, maxOut int64) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in) && int64(len(out)) < maxOut; i++ {
		c := in[i]
		if c != 0x90 || i+1 >= len(in) {
			out = append(out, c)
			continue
		}
		n := int(in[i+1])
		i++
		switch {
		case n == 0:
			out = append(out, 0x90)
		case len(out) > 0:
			last := out[len(out)-1]
			for range n - 1 {
				out = append(out, last)
			}
		}
	}
	return out
}
