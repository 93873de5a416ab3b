package stackutil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSubmitAllToRealSink: messages sent over one connection arrive in
// order; one the server refuses gets its error and the next ones go on.
func TestSubmitAllToRealSink(t *testing.T) {
	dir := t.TempDir()
	addr := startRealSink(t, dir, "-max-size", "1000")
	var msgs [][]byte
	for i := range 4 {
		msgs = append(msgs, []byte(fmt.Sprintf("Subject: %d\n\n.dot\nbody %d\n", i, i)))
	}
	msgs[1] = []byte("Subject: big\n\n" + strings.Repeat("x", 2000) + "\n")
	errs := SubmitAll(addr, "alice@sender.example", []string{"bob@example.test"}, msgs)
	for i, err := range errs {
		if (err != nil) != (i == 1) {
			t.Errorf("message %d: err %v", i, err)
		}
	}
	got, err := WaitSink(dir, 3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{0, 2, 3} {
		if string(got[i].Data) != string(msgs[n]) {
			t.Errorf("sink message %d = %q, want %q", i, got[i].Data, msgs[n])
		}
	}
}
