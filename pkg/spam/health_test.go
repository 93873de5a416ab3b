package spam

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	clk := newClock()
	var events []string
	h := NewHealth(HealthOptions{Name: "spamd", MaxTimeouts: 3, Pause: 5 * time.Minute, Now: clk.Now,
		OnChange: func(name string, paused bool, until time.Time) {
			events = append(events, fmt.Sprintf("%s %v %s", name, paused, until.Format("15:04")))
		}})
	timeout := fmt.Errorf("spamd SYMBOLS x: %w", context.DeadlineExceeded)
	h.Record(timeout)
	h.Record(timeout)
	h.Record(errors.New("spamd answered EX_TEMPFAIL")) // an answer resets the count
	h.Record(timeout)
	h.Record(timeout)
	if !h.Allow() {
		t.Fatal("paused after 2 consecutive timeouts, want 3")
	}
	h.Record(os.ErrDeadlineExceeded)
	if h.Allow() || !h.PausedUntil().Equal(clk.Now().Add(5*time.Minute)) {
		t.Fatalf("after 3 timeouts Allow = true or PausedUntil = %v", h.PausedUntil())
	}
	h.Record(timeout) // a late timeout while paused does not extend the pause
	clk.Add(5*time.Minute - time.Second)
	if h.Allow() {
		t.Error("allowed before the pause ended")
	}
	clk.Add(time.Second)
	if !h.Allow() || !h.PausedUntil().IsZero() {
		t.Error("not allowed after the pause")
	}
	h.Record(timeout)
	if !h.Allow() {
		t.Error("one timeout after the pause paused again, want the count restarted")
	}
	want := []string{"spamd true 08:05", "spamd false 00:00"}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events = %q, want %q", events, want)
	}
}

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("refused"), false},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), true},
	}
	for _, tt := range tests {
		if got := IsTimeout(tt.err); got != tt.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
