package virus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	var changes []string
	h := NewHealth("clamd", func(s Status) {
		changes = append(changes, fmt.Sprintf("%s %s %d", s.State, s.Since.Format("15:04"), s.Failures))
	})
	at := func(min int) time.Time { return time.Date(2026, 1, 2, 10, min, 0, 0, time.UTC) }
	down := Errorf("clamd", "dial: %w", errors.New("connection refused"))

	if got := h.Status().State; got != StateUnknown {
		t.Fatalf("initial state = %v, want unknown", got)
	}
	h.Observe(at(0), nil)
	h.Observe(at(1), nil) // no change: no callback
	h.Observe(at(2), down)
	h.Observe(at(3), down)
	h.Observe(at(4), fmt.Errorf("scan: %w", context.Canceled)) // ignored
	st := h.Status()
	if st.State != StateDown || !st.Since.Equal(at(2)) || st.Failures != 2 || st.LastError != down || !st.LastFail.Equal(at(3)) {
		t.Errorf("Status() = %+v, want down since 10:02 with 2 failures, last at 10:03", st)
	}
	h.Observe(at(5), fmt.Errorf("scan: %w", context.DeadlineExceeded)) // counts
	h.Observe(at(6), nil)
	st = h.Status()
	if st.State != StateUp || st.Failures != 0 || st.LastError == nil {
		t.Errorf("after recovery Status() = %+v, want up, 0 failures, last error kept", st)
	}
	want := []string{"up 10:00 0", "down 10:02 1", "up 10:06 0"}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("state changes = %q, want %q", changes, want)
	}
}

func TestHealthConcurrent(t *testing.T) {
	h := NewHealth("x", nil)
	done := make(chan bool)
	for i := range 4 {
		go func() {
			for j := range 100 {
				var err error
				if (i+j)%2 == 0 {
					err = ErrUnavailable
				}
				h.Observe(time.Unix(int64(j), 0), err)
				_ = h.Status()
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	if st := h.Status(); st.State == StateUnknown {
		t.Errorf("state after 400 observations = unknown")
	}
}

func TestHealthAdmit(t *testing.T) {
	h := NewHealth("clamd", nil)
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	// Unknown and up: every scan goes through, however many at once.
	for range 3 {
		if _, err := h.Admit(at); err != nil {
			t.Fatalf("Admit while unknown: %v", err)
		}
	}
	h.Observe(at, nil)
	r1, err1 := h.Admit(at)
	r2, err2 := h.Admit(at)
	if err1 != nil || err2 != nil {
		t.Fatalf("Admit while up: %v, %v", err1, err2)
	}
	r1()
	r2()

	failed := at.Add(time.Minute)
	h.Observe(failed, Errorf("clamd", "instream: %w", context.DeadlineExceeded))
	if _, err := h.Admit(failed.Add(ProbeGap - time.Millisecond)); !errors.Is(err, ErrNotTried) {
		t.Fatalf("Admit within ProbeGap of the failure = %v, want ErrNotTried", err)
	}
	later := failed.Add(ProbeGap)
	probe, err := h.Admit(later)
	if err != nil {
		t.Fatalf("first Admit while down = %v, want the scan let through to test the engine", err)
	}
	_, err = h.Admit(later)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrNotTried) {
		t.Fatalf("second Admit while down and tested = %v, want an error wrapping ErrUnavailable and ErrNotTried", err)
	}
	probe()
	probe2, err := h.Admit(later)
	if err != nil {
		t.Fatalf("Admit after the test ended = %v, want the next test let through", err)
	}
	h.Observe(at.Add(2*time.Minute), nil) // the engine is back
	probe2()
	for range 2 {
		if _, err := h.Admit(later.Add(time.Minute)); err != nil {
			t.Fatalf("Admit after recovery: %v", err)
		}
	}
}
