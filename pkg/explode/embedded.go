package explode

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"regexp"
)

// embedded is a file found inside a text body.
type embedded struct {
	Name  string
	Label string   // shown in the part's path when Name is empty
	Alt   []string // its other names (an OLE package's path)
	Data  []byte
}

var uuBegin = regexp.MustCompile(`^begin(?:-base64)? [0-7]{3,4} (.+)$`)

// findUU decodes up to maxFiles uuencoded blocks ("begin 644 name" …
// "end"), and the base64 form of GNU uuencode -m ("begin-base64 644 name"
// … "===="), producing at most maxBytes in all. A block without its end
// line is decoded as far as it goes. ok is false when the output reached
// maxBytes; the block being decoded then is left out.
func findUU(data []byte, maxFiles int, maxBytes int64) (out []embedded, ok bool) {
	if !bytes.HasPrefix(data, []byte("begin")) && !bytes.Contains(data, []byte("\nbegin")) {
		return nil, true
	}
	rest := data
	for len(rest) > 0 && len(out) < maxFiles {
		line := nextLine(&rest)
		m := uuBegin.FindSubmatch(line)
		if m == nil {
			continue
		}
		f := embedded{Name: string(bytes.TrimSpace(m[1]))}
		if bytes.HasPrefix(line, []byte("begin-base64")) {
			d := decodeBase64(cutBlock(&rest, isLine("====")), maxBytes)
			if d.Cut {
				return out, false
			}
			f.Data = d.Data
		} else {
			block := cutBlock(&rest, isLine("end"))
			f.Data = make([]byte, 0, min(int64(len(block)/4*3), maxBytes))
			for len(block) > 0 {
				dec := uuLine(nextLine(&block))
				if int64(len(f.Data)+len(dec)) > maxBytes {
					return out, false
				}
				f.Data = append(f.Data, dec...)
			}
		}
		maxBytes -= int64(len(f.Data))
		out = append(out, f)
	}
	return out, true
}

// cutBlock cuts the lines up to the one that ends the block, or
// everything, off *b; the end line is consumed.
func cutBlock(b *[]byte, isEnd func(line []byte) bool) []byte {
	start, n := *b, 0
	for len(*b) > 0 {
		line := nextLine(b)
		if isEnd(line) {
			return start[:n]
		}
		n = len(start) - len(*b)
	}
	return start
}

// isLine matches a line that is s, blanks aside.
func isLine(s string) func([]byte) bool {
	return func(line []byte) bool { return string(bytes.TrimSpace(line)) == s }
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

// findBinHex decodes the data forks of the BinHex 4.0 blocks in data, up
// to maxFiles of them and maxBytes of run-length expanded data in all
// (runs can grow the encoded text about 190 times). found says a BinHex
// marker was seen; err is the first malformed block; ok is false when
// the expansion reached maxBytes.
func findBinHex(data []byte, maxFiles int, maxBytes int64) (files []embedded, found bool, err error, ok bool) {
	for len(files) < maxFiles {
		i := bytes.Index(data, []byte(binhexMarker))
		if i < 0 {
			return files, found, err, true
		}
		found = true
		data = data[i+len(binhexMarker):]
		start := bytes.IndexByte(data, ':')
		if start < 0 {
			return files, found, cmp.Or(err, errBinHex), true
		}
		sixbit, used := binhexSixBit(data[start+1:])
		data = data[start+1+used:]
		raw, cut := binhexRLE(sixbit, maxBytes)
		if cut {
			return files, found, err, false
		}
		maxBytes -= int64(len(raw))
		f, ok := binhexFile(raw)
		if !ok {
			err = cmp.Or(err, errBinHex)
			continue
		}
		files = append(files, f)
	}
	return files, found, err, true
}

// binhexFile reads the header and data fork of a decoded BinHex stream.
func binhexFile(raw []byte) (embedded, bool) {
	// header: name length, name, 0, type 4, creator 4, flags 2, data length 4, rsrc length 4, crc 2
	if len(raw) < 1 || len(raw) < 1+int(raw[0])+1+4+4+2+4+4+2 {
		return embedded{}, false
	}
	nl := int(raw[0])
	name := string(raw[1 : 1+nl])
	h := raw[1+nl+1:]
	dlen := int(binary.BigEndian.Uint32(h[10:14]))
	body := h[4+4+2+4+4+2:]
	if dlen > len(body) || dlen < 0 {
		dlen = len(body)
	}
	return embedded{Name: name, Data: body[:dlen]}, true
}

// binhexSixBit turns the text up to the closing colon into bytes; used is
// the length of the text read, the colon included.
func binhexSixBit(text []byte) (out []byte, used int) {
	var table [256]int8
	for i := range table {
		table[i] = -1
	}
	for i := 0; i < len(binhexAlphabet); i++ {
		table[binhexAlphabet[i]] = int8(i)
	}
	end := bytes.IndexByte(text, ':')
	if end < 0 {
		end = len(text)
	}
	out = make([]byte, 0, end/4*3+3)
	var acc uint32
	bits := 0
	for _, c := range text[:end] {
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
	return out, min(end+1, len(text))
}

// binhexRLE expands the 0x90 run-length encoding. It measures the output
// before it allocates: beyond maxOut bytes it stops (cut) having allocated
// nothing, so a bomb costs one pass over its encoded text.
func binhexRLE(in []byte, maxOut int64) (out []byte, cut bool) {
	var size int64
	rleRuns(in, func(_ byte, n int) bool {
		size += int64(n)
		return size <= maxOut
	})
	if size > maxOut {
		return nil, true
	}
	out = make([]byte, 0, size)
	rleRuns(in, func(c byte, n int) bool {
		for range n {
			out = append(out, c)
		}
		return true
	})
	return out, false
}

// rleRuns calls run for each run of the 0x90 encoding (a byte and its
// count) until it returns false. "0x90 0" is a literal 0x90; "0x90 n"
// repeats the byte before it, n-1 more times.
func rleRuns(in []byte, run func(c byte, n int) bool) {
	var last byte
	seen := false
	for i := 0; i < len(in); i++ {
		c, n := in[i], 1
		if c == 0x90 && i+1 < len(in) {
			i++
			switch {
			case in[i] == 0: // a literal 0x90
			case !seen:
				continue // a run of nothing
			default:
				c, n = last, int(in[i])-1
			}
		}
		last, seen = c, true
		if n > 0 && !run(c, n) {
			return
		}
	}
}
