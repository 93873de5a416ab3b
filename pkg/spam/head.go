package spam

import (
	"bytes"
	"io"
)

// ReadHead reads at most max bytes of r, as spamc sends a message: when r
// holds more, the head is cut after its last '\n' (or at max when it has
// none) and truncated is true.
func ReadHead(r io.Reader, max int64) (head []byte, truncated bool, err error) {
	buf, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(buf)) <= max {
		return buf, false, nil
	}
	buf = buf[:max]
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i+1]
	}
	return buf, true, nil
}
