package virus_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/qscan/qscan/pkg/virus"
)

// hungEngine answers nothing until the scan's context ends, like a clamd
// stopped with SIGSTOP.
type hungEngine struct{ calls atomic.Int32 }

func (h *hungEngine) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	h.calls.Add(1)
	<-ctx.Done()
	return virus.Result{}, virus.Errorf("hung", "instream: %w", ctx.Err())
}

// While an engine is down, the scans of a batch do not each wait for it:
// one tests it and the others are held at once; the engine going down is
// logged once.
func TestObservedFailsFastWhileDown(t *testing.T) {
	logger, hook := test.NewNullLogger()
	eng := &hungEngine{}
	s := (&virus.Watch{Log: logger}).Wrap("hung", eng)
	scan := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := s.Scan(ctx, nil)
		return err
	}
	if err := scan(20 * time.Millisecond); !errors.Is(err, virus.ErrUnavailable) {
		t.Fatalf("first scan = %v, want the engine's timeout", err)
	}

	const n = 8
	burst := func() (notTried int) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = scan(300 * time.Millisecond)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, virus.ErrUnavailable) {
				t.Errorf("scan %d while down = %v, want an error wrapping ErrUnavailable", i, err)
			}
			if errors.Is(err, virus.ErrNotTried) {
				notTried++
			}
		}
		return notTried
	}
	// Right after the failure, nothing is tried.
	if got := burst(); got != n || eng.calls.Load() != 1 {
		t.Errorf("just after the failure: %d of %d scans not tried, engine asked %d times; want %d, 1", got, n, eng.calls.Load(), n)
	}
	// Later, one scan tests the engine and the others fail at once.
	time.Sleep(virus.ProbeGap)
	if got := burst(); got != n-1 || eng.calls.Load() != 2 {
		t.Errorf("%s after the failure: %d of %d scans not tried, engine asked %d times; want %d, 2", virus.ProbeGap, got, n, eng.calls.Load(), n-1)
	}
	downs := 0
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel {
			downs++
		}
	}
	if downs != 1 {
		t.Errorf("%d error lines for the engine going down, want 1", downs)
	}
}

// flakyEngine fails until back is set; it can be probed.
type flakyEngine struct {
	back   atomic.Bool
	probes atomic.Int32
}

func (f *flakyEngine) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	if !f.back.Load() {
		return virus.Result{}, virus.Errorf("flaky", "instream: connection refused")
	}
	return virus.Result{Engine: "flaky"}, nil
}

func (f *flakyEngine) Probe(ctx context.Context) error {
	f.probes.Add(1)
	_, err := f.Scan(ctx, nil)
	return err
}

// A down engine that can be probed is tested in the background, and when
// it is back the daemon is told at once (to retry the mail it held),
// without waiting for a message to try it. Probing stops with the
// generation.
func TestObservedProbesWhileDown(t *testing.T) {
	logger, _ := test.NewNullLogger()
	w := &virus.Watch{Log: logger, ProbeEvery: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ups atomic.Int32
	w.SetGeneration(ctx, func() { ups.Add(1) })
	eng := &flakyEngine{}
	s := w.Wrap("flaky", eng)
	if _, err := s.Scan(context.Background(), nil); !errors.Is(err, virus.ErrUnavailable) {
		t.Fatalf("scan while down = %v", err)
	}
	waitFor(t, "probes while down", func() bool { return eng.probes.Load() >= 2 })
	if ups.Load() != 0 {
		t.Fatalf("engine reported back while down")
	}
	eng.back.Store(true)
	waitFor(t, "the engine found back by a probe", func() bool { return ups.Load() == 1 })
	n := eng.probes.Load()
	time.Sleep(50 * time.Millisecond)
	if eng.probes.Load() != n || ups.Load() != 1 {
		t.Errorf("probes went on after the engine was back (%d, then %d), or it was reported back %d times", n, eng.probes.Load(), ups.Load())
	}

	// Down again, then the generation ends: probing stops.
	eng.back.Store(false)
	s.Scan(context.Background(), nil)
	waitFor(t, "probes while down again", func() bool { return eng.probes.Load() > n })
	cancel()
	time.Sleep(20 * time.Millisecond)
	n = eng.probes.Load()
	time.Sleep(50 * time.Millisecond)
	if got := eng.probes.Load(); got != n {
		t.Errorf("probes went on after the generation ended: %d, then %d", n, got)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// closingEngine counts Close calls.
type closingEngine struct {
	flakyEngine
	closed atomic.Int32
}

func (c *closingEngine) Close() error { c.closed.Add(1); return nil }

// The engines wrapped for a generation are closed when it ends (clamd's
// sessions after a reload), once; engines without Close are left alone.
func TestEndGenerationClosesEngines(t *testing.T) {
	logger, _ := test.NewNullLogger()
	w := &virus.Watch{Log: logger}
	w.SetGeneration(context.Background(), nil)
	eng := &closingEngine{}
	w.Wrap("closing", eng)
	w.Wrap("plain", &flakyEngine{})
	w.EndGeneration()
	w.EndGeneration()
	if n := eng.closed.Load(); n != 1 {
		t.Errorf("engine closed %d times after the generation ended, want 1", n)
	}
}

// batchEngine scans many contents at once and fails when told to.
type batchEngine struct{ fail bool }

func (b *batchEngine) Scan(context.Context, io.Reader) (virus.Result, error) {
	return virus.Result{}, nil
}
func (b *batchEngine) ScanAll(_ context.Context, c [][]byte) ([]virus.Result, error) {
	if b.fail {
		return nil, virus.Errorf("batch", "broken")
	}
	return make([]virus.Result, len(c)), nil
}

// A wrapped batch engine stays one, and its runs feed its health: after a
// failure the next run is turned away at once.
func TestObservedBatch(t *testing.T) {
	log, _ := test.NewNullLogger()
	w := &virus.Watch{Log: log}
	if _, ok := w.Wrap("hung", &hungEngine{}).(virus.BatchScanner); ok {
		t.Error("a stream engine wrapped is a BatchScanner")
	}
	eng := &batchEngine{}
	b, ok := w.Wrap("batch", eng).(virus.BatchScanner)
	if !ok {
		t.Fatal("a batch engine wrapped is not a BatchScanner")
	}
	if res, err := b.ScanAll(context.Background(), [][]byte{nil, nil}); err != nil || len(res) != 2 {
		t.Fatalf("ScanAll = %v, %v", res, err)
	}
	eng.fail = true
	if _, err := b.ScanAll(context.Background(), [][]byte{nil}); err == nil || errors.Is(err, virus.ErrNotTried) {
		t.Fatalf("failing ScanAll = %v, want the engine's error", err)
	}
	if _, err := b.ScanAll(context.Background(), [][]byte{nil}); !errors.Is(err, virus.ErrNotTried) {
		t.Errorf("ScanAll after a failure = %v, want ErrNotTried", err)
	}
}
