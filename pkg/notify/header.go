package notify

import "github.com/qscan/qscan/pkg/mimetree"

// headerFields is an unfolded header block.
type headerFields []mimetree.Field

// parseHeader unfolds up to max bytes of an RFC 5322 header block (LF or
// CRLF), stopping at the first empty line. Lines that are no field are
// skipped.
func parseHeader(b []byte, max int) headerFields {
	if len(b) > max {
		b = b[:max]
	}
	end, _ := mimetree.SplitHeader(b, 0, len(b))
	return mimetree.Fields(b, 0, end)
}

// get returns the first value of field name, "" if none.
func (h headerFields) get(name string) string {
	return mimetree.Value(h, name)
}

func (h headerFields) lookup(name string) (string, bool) {
	f, ok := mimetree.Lookup(h, name)
	return f.Value, ok
}
