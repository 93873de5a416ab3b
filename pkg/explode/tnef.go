package explode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// TNEF (winmail.dat, application/ms-tnef) attribute IDs we need: the
// rendering record starts an attachment, the title is its 8-bit file name,
// the data attribute its content.
const (
	tnefSignature     = 0x223E9F78
	tnefLevelAttach   = 0x02
	tnefAttAttachRend = 0x00069002
	tnefAttAttachName = 0x00018010
	tnefAttAttachData = 0x0006800F
)

// ErrTNEF is wrapped by every TNEF decoding error.
var ErrTNEF = errors.New("explode: bad TNEF stream")

// isTNEF says whether data starts with the TNEF signature.
func isTNEF(data []byte) bool {
	return len(data) >= 6 && binary.LittleEndian.Uint32(data) == tnefSignature
}

// decodeTNEF returns the attachments of a TNEF stream, at most max of them.
// Attribute lengths are checked against the bytes that remain, so a lying
// length costs nothing.
func decodeTNEF(data []byte, max int) ([]embedded, error) {
	if !isTNEF(data) {
		return nil, fmt.Errorf("tnef signature: %w", ErrTNEF)
	}
	rest := data[6:]
	var out []embedded
	cur := -1
	for len(rest) > 0 {
		if len(rest) < 9 {
			return out, fmt.Errorf("tnef attribute header: %w", ErrTNEF)
		}
		level := rest[0]
		attr := binary.LittleEndian.Uint32(rest[1:5])
		n := binary.LittleEndian.Uint32(rest[5:9])
		rest = rest[9:]
		if uint64(n)+2 > uint64(len(rest)) {
			return out, fmt.Errorf("tnef attribute length %d: %w", n, ErrTNEF)
		}
		val := rest[:n]
		rest = rest[n+2:] // value and its checksum
		if level != tnefLevelAttach {
			continue
		}
		switch attr {
		case tnefAttAttachRend:
			if len(out) >= max {
				return out, nil
			}
			out = append(out, embedded{})
			cur = len(out) - 1
		case tnefAttAttachName:
			if cur >= 0 {
				out[cur].Name = string(bytes.TrimRight(val, "\x00"))
			}
		case tnefAttAttachData:
			if cur < 0 { // data before any rendering record: be lenient
				out = append(out, embedded{})
				cur = len(out) - 1
			}
			out[cur].Data = val
		}
	}
	return out, nil
}
