package message

import (
	"bytes"
	"testing"
)

func TestRaw(t *testing.T) {
	whole := []byte("Subject: x\n\nbody\n")
	m := &Message{Header: whole[:11], Body: whole[12:]}
	if got := m.Raw(); !bytes.Equal(got, whole) || &got[0] != &whole[0] {
		t.Errorf("Raw of a contiguous message = %q (copied: %v)", got, &got[0] != &whole[0])
	}
	m = &Message{Header: []byte("Subject: x\n"), Body: []byte("body\n")}
	if got := m.Raw(); !bytes.Equal(got, whole) {
		t.Errorf("Raw of separate slices = %q", got)
	}
	// A header slice with room after it that is not the body is copied.
	buf := []byte("Subject: x\nXbody\n")
	m = &Message{Header: buf[:11], Body: []byte("body\n")}
	if got := m.Raw(); !bytes.Equal(got, whole) {
		t.Errorf("Raw with foreign capacity = %q", got)
	}
	if got := (&Message{Header: []byte("S: x\n")}).Raw(); string(got) != "S: x\n\n" {
		t.Errorf("Raw without body = %q", got)
	}
}
