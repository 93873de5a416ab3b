package health

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// statusUpdated returns the Updated field of the status file, or zero
// when there is none.
func statusUpdated(t *testing.T, dir string) time.Time {
	t.Helper()
	s, err := ReadStatus(dir)
	if err != nil {
		return time.Time{}
	}
	return s.Updated
}

func TestReporterFlushSchedule(t *testing.T) {
	dir := t.TempDir()
	r := NewReporter(dir, Status{PID: 7, Version: "v", Started: t0}, ReporterOptions{Every: 30 * time.Second, MinInterval: 2 * time.Second})
	steps := []struct {
		at     time.Duration
		do     func(now time.Time)
		writes bool
	}{
		{0, nil, true},            // first flush always writes
		{time.Second, nil, false}, // nothing changed
		{time.Second, func(time.Time) { r.SetHeld(0) }, false},                                                // same value: no change
		{1500 * time.Millisecond, func(now time.Time) { r.BatchDone(now) }, false},                            // changed, but within MinInterval
		{2 * time.Second, nil, true},                                                                          // the pending change, MinInterval passed
		{3 * time.Second, func(now time.Time) { r.SetEngine("clamd", false, "refused", now) }, true},          // engine down: at once
		{3100 * time.Millisecond, func(now time.Time) { r.SetEngine("clamd", false, "refused", now) }, false}, // same state
		{3200 * time.Millisecond, func(now time.Time) { r.SetEngine("clamd", true, "", now) }, true},          // back up: at once
		{20 * time.Second, nil, false},
		{33200 * time.Millisecond, nil, true}, // heartbeat
	}
	for i, st := range steps {
		now := t0.Add(st.at)
		if st.do != nil {
			st.do(now)
		}
		before := statusUpdated(t, dir)
		if err := r.Flush(now); err != nil {
			t.Fatalf("step %d: Flush: %v", i, err)
		}
		wrote := !statusUpdated(t, dir).Equal(before)
		if wrote != st.writes {
			t.Errorf("step %d (t+%v): wrote = %v, want %v", i, st.at, wrote, st.writes)
		}
	}
	s, err := ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Engines["clamd"]
	if !e.Up || !e.Since.Equal(t0.Add(3200*time.Millisecond)) || e.LastError != "refused" {
		t.Errorf("clamd = %+v, want up since t+3.2s with last error kept", e)
	}
	if s.PID != 7 || s.Version != "v" || !s.Started.Equal(t0) || !s.LastBatch.Equal(t0.Add(1500*time.Millisecond)) {
		t.Errorf("status = %+v", s)
	}
}

func TestReporterBatchInProgress(t *testing.T) {
	dir := t.TempDir()
	r := NewReporter(dir, Status{PID: 1}, ReporterOptions{})
	r.BatchStart(t0)
	if got := r.Snapshot().BatchStarted; !got.Equal(t0) {
		t.Errorf("BatchStarted = %v, want %v", got, t0)
	}
	r.BatchDone(t0.Add(time.Second))
	if s := r.Snapshot(); !s.BatchStarted.IsZero() || !s.LastBatch.Equal(t0.Add(time.Second)) {
		t.Errorf("after BatchDone: %+v", s)
	}
}

// Batches overlap (the next is checked while one is committed): the
// batch in progress shown is the oldest, until the last one ends.
func TestReporterOverlappingBatches(t *testing.T) {
	r := NewReporter(t.TempDir(), Status{PID: 1}, ReporterOptions{})
	r.BatchStart(t0)
	r.BatchStart(t0.Add(time.Second))
	if got := r.Snapshot().BatchStarted; !got.Equal(t0) {
		t.Errorf("two batches in progress: BatchStarted = %v, want the older, %v", got, t0)
	}
	r.BatchDone(t0.Add(2 * time.Second))
	if got := r.Snapshot().BatchStarted; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("after the first ended: BatchStarted = %v, want the second's start", got)
	}
	r.BatchDone(t0.Add(3 * time.Second))
	if s := r.Snapshot(); !s.BatchStarted.IsZero() || !s.LastBatch.Equal(t0.Add(3*time.Second)) {
		t.Errorf("after both ended: %+v, want idle", s)
	}
}

func TestReporterWriteErrorRetried(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	r := NewReporter(dir, Status{PID: 1}, ReporterOptions{})
	if err := r.Flush(t0); err == nil {
		t.Fatal("Flush into a missing dir succeeded")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Within MinInterval of the failure, but the write never happened.
	if err := r.Flush(t0.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus(dir); err != nil {
		t.Errorf("status not written on retry: %v", err)
	}
}

// TestReporterConcurrent is for the race detector: the pipeline's
// workers and the heartbeat ticker call in at once.
func TestReporterConcurrent(t *testing.T) {
	dir := t.TempDir()
	r := NewReporter(dir, Status{PID: 1}, ReporterOptions{MinInterval: time.Nanosecond})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				r.SetEngine(fmt.Sprintf("e%d", g), i%2 == 0, "err", now)
				r.BatchDone(now)
				r.SetHeld(i)
				if err := r.Flush(now); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	s, err := ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Engines) != 4 {
		t.Errorf("engines = %v, want 4", s.Engines)
	}
}
