package content

import (
	"strings"
	"testing"
)

// longBlankLineRef is the definition: a run of more than n blanks.
func longBlankLineRef(data []byte, n int) bool {
	run := 0
	for _, b := range data {
		if !isBlank(b) {
			run = 0
			continue
		}
		if run++; run > n {
			return true
		}
	}
	return false
}

// Both sides of the limit, the run at the start, the end and between
// other text, and blanks that are not one run.
func TestLongBlankLine(t *testing.T) {
	for _, c := range []struct {
		data string
		n    int
		want bool
	}{
		{"", 0, false},
		{" ", 0, true},
		{"x", 0, false},
		{strings.Repeat(" ", 5), 5, false},
		{strings.Repeat(" ", 6), 5, true},
		{"ab" + strings.Repeat(" \t\r", 2) + "cd", 5, true},
		{"ab" + strings.Repeat(" \t", 2) + "\ncd", 5, false},
		{strings.Repeat("  x", 1000), 2, false},
		{strings.Repeat("  x", 1000) + "   ", 2, true},
		{"   " + strings.Repeat("x", 1000), 2, true},
		{strings.Repeat(" ", 100000), 100000, false},
		{"a\n" + strings.Repeat(" ", 100001) + "\nb", 100000, true},
	} {
		if got := longBlankLine([]byte(c.data), c.n); got != c.want {
			t.Errorf("longBlankLine(%d bytes, %d) = %v, want %v", len(c.data), c.n, got, c.want)
		}
	}
}

func FuzzLongBlankLine(f *testing.F) {
	f.Add([]byte("a   b \t\r c"), 2)
	f.Add([]byte("    "), 3)
	f.Add([]byte("x  x   x    x"), 3)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		n = n % 64
		if n < 0 {
			n = -n
		}
		if got, want := longBlankLine(data, n), longBlankLineRef(data, n); got != want {
			t.Fatalf("longBlankLine(%q, %d) = %v, definition says %v", data, n, got, want)
		}
	})
}
