package stackutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// Empty removes every file from the stack's incoming and outgoing queues
// and clears the sink, so that tests do not see each other's mail.
func (s Stack) Empty() error {
	for _, d := range []string{s.Incoming, s.Outgoing} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			os.Remove(filepath.Join(d, e.Name()))
		}
	}
	return ClearSink(s.SinkDir)
}

// BodyOf returns what follows the first empty line of a message.
func BodyOf(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[i+2:]
	}
	return nil
}

// HeaderValue returns the first value of the named header of a message.
func HeaderValue(raw []byte, name string) string {
	hdr := raw
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hdr = raw[:i+1]
	}
	for _, l := range strings.Split(string(hdr), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
