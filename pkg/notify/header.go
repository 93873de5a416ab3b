package notify

import (
	"bytes"
	"strings"
)

// headerFields is an unfolded header block.
type headerFields []struct{ name, value string }

// parseHeader unfolds up to max bytes of an RFC 5322 header block (LF or
// CRLF), stopping at the first empty line. Lines that are no field are
// skipped.
func parseHeader(b []byte, max int) headerFields {
	if len(b) > max {
		b = b[:max]
	}
	var h headerFields
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		l = bytes.TrimRight(l, "\r")
		if len(l) == 0 {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			if n := len(h); n > 0 && len(h[n-1].value) < maxHeaders {
				h[n-1].value += " " + strings.TrimSpace(string(l))
			}
			continue
		}
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		h = append(h, struct{ name, value string }{
			strings.TrimSpace(string(name)), strings.TrimSpace(string(value))})
	}
	return h
}

// get returns the first value of field name, "" if none.
func (h headerFields) get(name string) string {
	v, _ := h.lookup(name)
	return v
}

func (h headerFields) lookup(name string) (string, bool) {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return f.value, true
		}
	}
	return "", false
}
