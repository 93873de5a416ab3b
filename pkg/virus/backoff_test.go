package virus

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	half := func() float64 { return 0.5 }
	tests := []struct {
		b       Backoff
		attempt int
		want    time.Duration
	}{
		{Backoff{}, 0, 30 * time.Second},
		{Backoff{}, 1, 30 * time.Second},
		{Backoff{}, 2, time.Minute},
		{Backoff{}, 3, 2 * time.Minute},
		{Backoff{}, 5, 8 * time.Minute},
		{Backoff{}, 6, 10 * time.Minute},
		{Backoff{}, 1000, 10 * time.Minute},
		{Backoff{Min: time.Second, Max: 5 * time.Second}, 4, 5 * time.Second},
		{Backoff{Min: time.Minute, Max: time.Second}, 3, time.Minute}, // Max below Min: Min wins
		{Backoff{Jitter: 0.2}, 2, time.Minute},                        // no Rand: no jitter
		{Backoff{Jitter: 0.2, Rand: half}, 2, 54 * time.Second},       // 60 s - 60*0.2*0.5
		{Backoff{Jitter: 7, Rand: half}, 1, 15 * time.Second},         // jitter clamped to 1
		{Backoff{Jitter: 0.5, Rand: func() float64 { return 3 }}, 1, 15 * time.Second},
		{Backoff{Min: time.Duration(1) << 61, Max: time.Duration(1<<63 - 1)}, 10, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		if got := tt.b.Delay(tt.attempt); got != tt.want {
			t.Errorf("%+v.Delay(%d) = %v, want %v", tt.b, tt.attempt, got, tt.want)
		}
	}
}
