package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// counter is a daemon CPU reading that grows by a second at each read.
func counter() func() (map[string]time.Duration, bool) {
	var mu sync.Mutex
	n := 0
	return func() (map[string]time.Duration, bool) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return map[string]time.Duration{"clamd": time.Duration(n) * time.Second}, true
	}
}

// The middle of a run of 100 starts at the 10th message done and ends at
// the 90th; each end is taken once, and ends taken out of order (a clock
// step) give no middle.
func TestMidMeter(t *testing.T) {
	m := newMid(100, counter())
	if m.lo != 10 || m.hi != 90 {
		t.Fatalf("ends of 100 = %d, %d; want 10, 90", m.lo, m.hi)
	}
	if m.span() != nil {
		t.Error("span before any end was taken: want nil")
	}
	m.done(90)
	m.done(10)
	if s := m.span(); s != nil {
		t.Errorf("span whose end was taken before its start = %+v, want nil", s)
	}

	m = newMid(100, counter())
	for k := 1; k <= 100; k++ {
		m.done(k)
	}
	m.mark(1) // again: ignored
	if s := m.span(); s == nil || s.cpu["clamd"] != time.Second || s.wall <= 0 {
		t.Errorf("span = %+v, want 1s of clamd CPU over some wall time", s)
	}

	if newMid(9, counter()) != nil {
		t.Error("a run of 9 has a middle: want none")
	}
	var none *midMeter
	none.done(1)
	none.watchQueue(t.TempDir(), []string{"x"}, nil)
	if none.span() != nil {
		t.Error("nil meter's span: want nil")
	}

	bad := newMid(10, func() (map[string]time.Duration, bool) { return nil, false })
	bad.done(1)
	bad.done(9)
	if bad.span() != nil {
		t.Error("span from unreadable CPU: want nil")
	}
}

func TestSpanPlus(t *testing.T) {
	a := &span{wall: time.Second, cpu: map[string]time.Duration{"clamd": time.Second}}
	b := &span{wall: 2 * time.Second, cpu: map[string]time.Duration{"clamd": time.Second, "spamd": time.Second}}
	s := a.plus(b)
	if s.wall != 3*time.Second || s.cpu["clamd"] != 2*time.Second || s.cpu["spamd"] != time.Second {
		t.Errorf("plus = %+v, want 3s wall, clamd 2s, spamd 1s", s)
	}
	if a.cpu["clamd"] != time.Second {
		t.Error("plus changed its receiver")
	}
	if a.plus(nil) != nil || (*span)(nil).plus(a) != nil {
		t.Error("plus with an unknown stretch: want unknown")
	}
}

// watchQueue marks the ends as the outgoing queue receives the lo-th and
// hi-th message, and gives up when the run ends first.
func TestWatchQueue(t *testing.T) {
	out := t.TempDir()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = "6AOX" + string(rune('A'+i)) + "0000001"
	}
	m := newMid(len(ids), counter())
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { m.watchQueue(out, ids, stop); close(done) }()
	write := func(id string) {
		if err := os.WriteFile(filepath.Join(out, sendmail.QfName(id)), []byte("V8\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(ids[1]) // the 2nd: a tenth of 20
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		m.mu.Lock()
		seen := !m.at[0].IsZero()
		m.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("watchQueue did not see the 2nd message")
		}
	}
	write(ids[17]) // the 18th: nine tenths
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watchQueue did not see the 18th message")
	}
	close(stop)
	if s := m.span(); s == nil || s.cpu["clamd"] != time.Second || s.wall <= 0 {
		t.Errorf("span = %+v, want 1s of clamd CPU between the two ends", s)
	}

	m = newMid(len(ids), counter())
	stop, done = make(chan struct{}), make(chan struct{})
	go func() { m.watchQueue(t.TempDir(), ids, stop); close(done) }()
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watchQueue did not stop")
	}
	if m.span() != nil {
		t.Error("span of a drain whose messages never came out: want nil")
	}
}

// With -relay=false every client gets the engines' own addresses, and the
// relay's columns stay empty.
func TestMeasureDirect(t *testing.T) {
	b := &bench{direct: true, st: stack{clamd: "127.0.0.1:3310", spamd: "127.0.0.1:783"}, msgs: make([][]byte, 20)}
	var got map[string]string
	var gotMid *midMeter
	r, err := b.measure([]string{"clamd", "spamd"}, func(addr map[string]string, mid *midMeter) (result, error) {
		got, gotMid = addr, mid
		return result{msgs: 20, wall: time.Second, sent: -1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["clamd"] != "127.0.0.1:3310" || got["spamd"] != "127.0.0.1:783" {
		t.Errorf("addresses without relay = %v, want the engines' own", got)
	}
	if gotMid == nil || r.sent != -1 || r.reqs != nil || r.inFlight != "" {
		t.Errorf("direct run: meter %v, sent %d, requests %v, in flight %q; want a meter and no relay counts", gotMid, r.sent, r.reqs, r.inFlight)
	}
}
