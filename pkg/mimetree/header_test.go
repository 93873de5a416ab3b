package mimetree

import (
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Unfolding a header costs work linear in its size: a field folded over
// thousands of lines was unfolded by repeated concatenation (a 1 MB part
// header took 98 s of CPU). The allocations stand for the work.
func TestFieldsLinear(t *testing.T) {
	hdr := []byte("X-Long: a\n" + strings.Repeat(" continuation-line-text-xxxxxxxxxxxxxxxxxxxxxxxxx\n", 8000))
	var fields []Field
	alloc := allocated(func() { fields = Fields(hdr, 0, len(hdr)) })
	if len(fields) != 1 || len(fields[0].Value) < len(hdr)-8000*2 {
		t.Fatalf("Fields = %d fields", len(fields))
	}
	if limit := uint64(len(hdr)) * 8; alloc > limit {
		t.Errorf("Fields of a %d-byte folded field allocated %d bytes, want at most %d", len(hdr), alloc, limit)
	}
}
