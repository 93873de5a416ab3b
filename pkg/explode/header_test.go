package explode

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// foldedPartHeader returns a message whose one part header holds a field
// folded over lines continuation lines (about 50 bytes each).
func foldedPartHeader(lines int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=A\n\n--A\n")
	b.WriteString("Content-Type: text/plain\nX-Long: a\n")
	for range lines {
		b.WriteString(" continuation-line-text-xxxxxxxxxxxxxxxxxxxxxxxxx\n")
	}
	b.WriteString("\nx\n--A--\n")
	return []byte(b.String())
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A 1 MB part header (under max_header_bytes) is read in work linear in
// its size by every parser it goes through (ours, the rebuild walk and the
// MIME library).
func TestFoldedPartHeaderLinear(t *testing.T) {
	raw := foldedPartHeader(20000)
	if len(raw) < 1<<20-100<<10 {
		t.Fatalf("test message is %d bytes", len(raw))
	}
	var res *Result
	alloc := allocated(func() { res = explodeFile(t, raw, DefaultLimits()) })
	if p, ok := findPart(res, "1"); !ok || string(p.Data) != "x" {
		t.Errorf("part 1 not found\n%s", dump(res))
	}
	if limit := uint64(len(raw)) * 30; alloc > limit {
		t.Errorf("Explode of a %d-byte part header allocated %d bytes, want at most %d", len(raw), alloc, limit)
	}
}

// A Content-Type or Content-Disposition with thousands of parameters gets
// a verdict before the MIME library (whose parameter repair is quadratic)
// sees it.
func TestTooManyHeaderParams(t *testing.T) {
	for _, field := range []string{"Content-Type: application/octet-stream", "Content-Disposition: attachment"} {
		var b strings.Builder
		b.WriteString("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=A\n\n--A\n")
		b.WriteString(field)
		for i := range 30000 {
			fmt.Fprintf(&b, ";\n p%d=v", i)
		}
		b.WriteString("\n\nx\n--A--\n")
		var res *Result
		alloc := allocated(func() { res = explodeFile(t, []byte(b.String()), DefaultLimits()) })
		if _, ok := hasReport(res, TextHeaderParams); !ok {
			t.Errorf("%s with 30000 parameters: no %q report in\n%s", field, TextHeaderParams, dump(res))
		}
		if limit := uint64(b.Len()) * 30; alloc > limit {
			t.Errorf("%s with 30000 parameters: %d bytes allocated, want at most %d", field, alloc, limit)
		}
	}
	// An ordinary long RFC 2231 file name stays well under the limit.
	raw := []byte("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=A\n\n--A\n" +
		"Content-Type: application/octet-stream\nContent-Disposition: attachment;\n filename*0=\"a\";\n filename*1=\"b\";\n filename*2=\"c.exe\"\n\nx\n--A--\n")
	res := explodeFile(t, raw, DefaultLimits())
	if _, ok := hasReport(res, TextHeaderParams); ok {
		t.Errorf("three parameters: unexpected verdict\n%s", dump(res))
	}
}

func BenchmarkFoldedPartHeader(b *testing.B) {
	raw := foldedPartHeader(20000)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Explode(raw, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}
