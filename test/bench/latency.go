package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/test/stackutil"
)

// latency holds pick-up latencies: qf appearing in the incoming queue to
// its qf appearing in the outgoing queue.
type latency struct {
	n             int
	rate          int
	p50, p99, max time.Duration
}

// runLatency starts the daemon (pass-through, no engines) and offers n
// messages at rate per second.
func runLatency(bin, root string, msgs [][]byte, n, rate, conc int) (latency, error) {
	cfg, err := writeConfig(root, drainConfig{set: engineSet{name: "none"}, conc: conc})
	if err != nil {
		return latency{}, err
	}
	in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return latency{}, err
	}
	defer w.Close()
	if err := w.Add(out); err != nil {
		return latency{}, err
	}
	var stderr bytes.Buffer
	d, err := stackutil.NewDaemon(bin, cfg, stackutil.DaemonOpts{Log: &stderr})
	if err != nil {
		return latency{}, err
	}
	defer d.Stop()
	time.Sleep(500 * time.Millisecond)

	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lats []time.Duration
	done := make(chan struct{})
	go func() {
		for ev := range w.Events {
			id, ok := strings.CutPrefix(filepath.Base(ev.Name), "qf")
			if !ok || !ev.Has(fsnotify.Create) {
				continue
			}
			now := time.Now()
			mu.Lock()
			if t0, ok := sent[id]; ok {
				lats = append(lats, now.Sub(t0))
				delete(sent, id)
				if len(lats) == n {
					close(done)
				}
			}
			mu.Unlock()
		}
	}()
	gen := sendmail.NewIDGen(time.Now, os.Getpid(), 1800)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	for i := 0; i < n; i++ {
		<-tick.C
		mu.Lock()
		_, err := enqueueAt(in, gen, msgs[i%len(msgs)], sent)
		mu.Unlock()
		if err != nil {
			return latency{}, err
		}
		if i%25 == 0 {
			progress("latency", i, n, start)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		return latency{}, fmt.Errorf("latency: only %d of %d messages came out\n%s", len(lats), n, stderr.Bytes())
	}
	progress("latency", n, n, start)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return latency{n: n, rate: rate, p50: lats[len(lats)/2], p99: lats[len(lats)*99/100], max: lats[len(lats)-1]}, nil
}

// enqueueAt queues one message and records the moment its qf appeared.
// The caller holds the lock the watcher takes, so the outgoing event is
// matched only after the time is recorded.
func enqueueAt(dir string, gen *sendmail.IDGen, raw []byte, sent map[string]time.Time) (string, error) {
	id, err := enqueue(dir, gen, raw)
	if err == nil {
		sent[id] = time.Now()
	}
	return id, err
}
