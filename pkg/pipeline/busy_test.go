package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBusyEntryRetriedWithoutRescan: an entry its writer still has when
// the watcher's event comes (sendmail holds its lock on the qf for a
// moment after the rename; the df may come late) is tried again by the
// pipeline itself. Nothing else wakes Run here: no rescan, no further
// event. Before, such a message waited for the next rescan (30 s shipped).
func TestBusyEntryRetriedWithoutRescan(t *testing.T) {
	tests := []struct {
		name string
		hold func(t *testing.T, e *env, id string) (release func()) // makes the entry busy
	}{
		{"locked qf", func(t *testing.T, e *env, id string) func() {
			return lockQfFile(t, filepath.Join(e.in, "qf"+id))
		}},
		{"df written late", func(t *testing.T, e *env, id string) func() {
			df, aside := filepath.Join(e.in, "df"+id), filepath.Join(t.TempDir(), "df")
			if err := os.Rename(df, aside); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := os.Rename(aside, df); err != nil {
					t.Error(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := "6AM876nc005700"
			e.enqueue(id, "x\n", 0)
			release := tt.hold(t, e, id)
			p := e.pipeline(e.options())
			wake := make(chan struct{}, 1)
			poke := func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx, wake, poke) }()
			defer func() { cancel(); <-done }()
			poke() // the watcher's one event for the new qf

			waitFor(t, "the entry noted busy", func() bool { return p.busy.count() > 0 })
			release()
			waitFor(t, "delivery without a rescan", func() bool {
				_, err := os.Stat(filepath.Join(e.out, "qf"+id))
				return err == nil
			})
			// Forgotten once committed, so that no timer keeps firing.
			waitFor(t, "the busy entry forgotten", func() bool { return p.busy.count() == 0 })
		})
	}
}

// lockQfFile takes an exclusive flock on path as sendmail does, and
// returns its release.
func lockQfFile(t *testing.T, path string) func() {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// waitFor polls cond until it holds; the bound only keeps a broken build
// from hanging (no retry at all), it is not a measurement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
