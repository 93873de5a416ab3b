package sendmail

import (
	"sync"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	tests := []struct {
		t        time.Time
		seq, pid int
		want     string
	}{
		// The ID sendmail 8.17 gave the message shown in the stack README.
		{time.Date(2026, 11, 22, 8, 7, 6, 0, time.UTC), 49*60 + 38, 5638, "6AM876nc005638"},
		// Same instant in another zone: IDs use UTC.
		{time.Date(2026, 11, 22, 9, 7, 6, 0, time.FixedZone("CET", 3600)), 49*60 + 38, 5638, "6AM876nc005638"},
		{time.Date(2002, 4, 8, 13, 38, 33, 0, time.UTC), 12*60 + 21, 26713, "g38DcXCL026713"}, // 8.12 era, op guide
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0, 1, "60100000000001"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), 3599, 4194304, "6BVNxxxx4194304"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), 3600, 7, "6BVNxx00000007"}, // seq wraps
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), -1, 7, "6BVNxxxx000007"},
		{time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), 0, 7, "x5100000000007"}, // 119 % 60 = 59
		{time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC), 0, 7, "05100000000007"}, // 120 % 60 = 0
	}
	for _, tt := range tests {
		if got := NewID(tt.t, tt.seq, tt.pid); got != tt.want {
			t.Errorf("NewID(%v, %d, %d) = %q, want %q", tt.t, tt.seq, tt.pid, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"6AM876nc005638", true},
		{"g38DcXCL026713", true},
		{"a-b_c", true},
		{"", false},
		{"../etc", false},
		{"a/b", false},
		{"a b", false},
		{"a.b", false},
		{"ü", false},
		{string(make([]byte, MaxIDLen+1)), false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestIDGen(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 7, 6, 0, time.UTC)
	g := NewIDGen(func() time.Time { return now }, 5638, 3598)
	for _, want := range []string{"6AM876xw005638", "6AM876xx005638", "6AM87600005638"} {
		if got := g.Next(); got != want {
			t.Errorf("Next() = %q, want %q", got, want)
		}
	}
	// Concurrent callers never get the same ID within one second.
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				id := g.Next()
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate ID %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
