package explode

import (
	"bytes"
)

// findYEnc decodes up to maxFiles yEnc blocks ("=ybegin ... name=NAME" …
// "=yend"), as news readers and some mail programs do, producing at most
// maxBytes in all. A block without its =yend line is decoded as far as it
// goes; ok is false when the output reached maxBytes (the block being
// decoded is left out).
func findYEnc(data []byte, maxFiles int, maxBytes int64) (out []embedded, ok bool) {
	if !bytes.Contains(data, []byte("=ybegin ")) {
		return nil, true
	}
	rest := data
	for len(rest) > 0 && len(out) < maxFiles {
		line := nextLine(&rest)
		if !bytes.HasPrefix(line, []byte("=ybegin ")) {
			continue
		}
		var f embedded
		if i := bytes.Index(line, []byte(" name=")); i >= 0 {
			f.Name = string(bytes.TrimSpace(line[i+len(" name="):]))
		}
		block := cutBlock(&rest, func(l []byte) bool { return bytes.HasPrefix(l, []byte("=yend")) })
		f.Data = make([]byte, 0, min(int64(len(block)), maxBytes))
		for len(block) > 0 {
			l := nextLine(&block)
			if bytes.HasPrefix(l, []byte("=ypart ")) {
				continue
			}
			if int64(len(f.Data)+yencLen(l)) > maxBytes {
				return out, false
			}
			f.Data = yencLine(f.Data, l)
		}
		maxBytes -= int64(len(f.Data))
		out = append(out, f)
	}
	return out, true
}

// yencLen is the decoded length of one line.
func yencLen(l []byte) int {
	n := 0
	for i := 0; i < len(l); i++ {
		if l[i] == '=' && i+1 < len(l) {
			i++
		}
		n++
	}
	return n
}

// yencLine appends the decoded bytes of one line: each byte less 42, an
// escaped one ("=" and the next byte) less 64 more.
func yencLine(dst, l []byte) []byte {
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '=' && i+1 < len(l) {
			i++
			c = l[i] - 64
		}
		dst = append(dst, c-42)
	}
	return dst
}
