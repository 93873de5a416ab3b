package postfix

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRecordCodec(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, 70000} {
		val := bytes.Repeat([]byte("a"), n)
		b := appendRecord(nil, RecNorm, val)
		if len(b) != recordLen(n) {
			t.Errorf("recordLen(%d) = %d, encoded %d", n, recordLen(n), len(b))
		}
		typ, got, next, err := readRecord(b, 0, 1<<20)
		if err != nil || typ != RecNorm || !bytes.Equal(got, val) || next != len(b) {
			t.Errorf("readRecord(appendRecord(%d bytes)) = %q, %d bytes, %d, %v", n, typ, len(got), next, err)
		}
	}
	// 300 = 0b10_0101100: low group first with the high bit, then 2.
	if b := appendRecord(nil, 'N', make([]byte, 300)); b[1] != 0xac || b[2] != 0x02 {
		t.Errorf("length of 300 encoded as % x, want ac 02", b[1:3])
	}
}

func TestReadRecordErrors(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		max  int
		want error
	}{
		{[]byte{'N'}, 100, ErrTruncated},
		{[]byte{'N', 5, 'a'}, 100, ErrTruncated},
		{[]byte{'N', 0x80}, 100, ErrTruncated},
		{[]byte{'N', 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 100, ErrFormat},
		{[]byte{'N', 5, 'a', 'b', 'c', 'd', 'e'}, 4, ErrRecordSize},
	} {
		if _, _, _, err := readRecord(c.in, 0, c.max); !errors.Is(err, c.want) {
			t.Errorf("readRecord(% x, max %d) = %v, want %v", c.in, c.max, err, c.want)
		}
	}
	// The limit itself is accepted.
	if _, _, _, err := readRecord([]byte{'N', 4, 'a', 'b', 'c', 'd'}, 0, 4); err != nil {
		t.Errorf("record of exactly the limit: %v", err)
	}
}

// build assembles a queue file from (type, data) pairs.
func build(recs ...string) []byte {
	var b []byte
	for _, r := range recs {
		b = appendRecord(b, r[0], []byte(r[1:]))
	}
	return b
}

func TestParseErrors(t *testing.T) {
	size := "C" + sizeValue(make([]int64, 6))
	good := []string{size, "T1 0", "Sa@b", "Rc@d", "M", "NSubject: x", "N", "Nbody", "X", "E"}
	if _, err := parse(build(good...), Limits{}.withDefaults()); err != nil {
		t.Fatalf("good file: %v", err)
	}
	for _, c := range []struct {
		name string
		recs []string
		want error
	}{
		{"no size record first", good[1:], ErrFormat},
		{"no end", good[:len(good)-1], ErrTruncated},
		{"no sender", []string{size, "T1 0", "Rc@d", "M", "N", "X", "E"}, ErrNoSender},
		{"body record in the envelope", []string{size, "Nx", "Sa@b", "M", "X", "E"}, ErrFormat},
		{"envelope record in the content", []string{size, "Sa@b", "M", "Rc@d", "X", "E"}, ErrFormat},
		{"bad pointer", []string{size, "Sa@b", "p99999", "M", "X", "E"}, ErrFormat},
		{"bad size record", []string{"Cx y", "Sa@b", "M", "X", "E"}, ErrFormat},
	} {
		if _, err := parse(build(c.recs...), Limits{}.withDefaults()); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	raw := build("C"+sizeValue(make([]int64, 6)), "T1 0", "Sa@b", "Rc@d", "M", "N"+strings.Repeat("x", 100), "X", "E")
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxFileBytes: int64(len(raw))}); err != nil {
		t.Errorf("file of exactly MaxFileBytes: %v", err)
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxFileBytes: int64(len(raw) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file over MaxFileBytes: %v, want ErrTooLarge", err)
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxRecordBytes: 100}); err != nil {
		t.Errorf("record of exactly MaxRecordBytes: %v", err)
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxRecordBytes: 99}); !errors.Is(err, ErrRecordSize) {
		t.Errorf("record over MaxRecordBytes: %v, want ErrRecordSize", err)
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxRecords: 8}); err != nil {
		t.Errorf("exactly MaxRecords records: %v", err)
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxRecords: 7}); !errors.Is(err, ErrTooMany) {
		t.Errorf("more than MaxRecords: %v, want ErrTooMany", err)
	}
}

// TestPointerLoop: a pointer that jumps back to itself ends at MaxRecords,
// not in an endless loop.
func TestPointerLoop(t *testing.T) {
	head := build("C"+sizeValue(make([]int64, 6)), "Sa@b")
	loop := appendRecord(nil, RecPtr, []byte(strings.Repeat(" ", 5)+"0000000000"))
	copy(loop[2:], []byte(strings.Repeat(" ", 15-len(itoa(len(head))))+itoa(len(head))))
	raw := append(head, loop...)
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxRecords: 1000}); !errors.Is(err, ErrTooMany) {
		t.Errorf("pointer loop: %v, want ErrTooMany", err)
	}
}

func itoa(n int) string { return strings.TrimSpace(sizeValue([]int64{int64(n)})) }
