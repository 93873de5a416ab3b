// Command bench measures qscan: a pass-through drain of N queued messages
// with `qscan run --once` beside the floor (the same messages moved with
// only the bare safe file operations), and the pick-up latency of the
// daemon at a steady offered load. Run it with `make bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	n := flag.Int("n", envInt("BENCH_N", 2000), "messages to drain (BENCH_N)")
	rate := flag.Int("rate", 50, "offered load for the latency run, messages per second")
	latN := flag.Int("latency-n", 500, "messages for the latency run")
	bin := flag.String("qscan", "bin/qscan", "qscan binary")
	corpus := flag.String("corpus", "../shared/corpus", "corpus directory (used when present)")
	flag.Parse()
	root, err := os.MkdirTemp("", "qscan-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(root)
	msgs, source := loadMix(*corpus, *n, int64(envInt("BENCH_SEED", 1)))
	fmt.Fprintf(os.Stderr, "bench: %d messages from %s, %.1f MB\n", len(msgs), source, float64(totalBytes(msgs))/1e6)

	floor, err := runFloor(filepath.Join(root, "floor"), msgs)
	if err != nil {
		fail(err)
	}
	drain, err := runDrain(*bin, filepath.Join(root, "drain"), msgs)
	if err != nil {
		fail(err)
	}
	lat, err := runLatency(*bin, filepath.Join(root, "latency"), msgs, *latN, *rate)
	if err != nil {
		fail(err)
	}
	report(os.Stdout, len(msgs), totalBytes(msgs), source, floor, drain, lat)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// progress draws a one-line progress bar on stderr.
func progress(label string, done, total int, start time.Time) {
	const width = 30
	filled := width * done / max(total, 1)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(os.Stderr, "\r%-10s [%s] %5d/%d %6.1fs", label, bar, done, total, time.Since(start).Seconds())
	if done >= total {
		fmt.Fprintln(os.Stderr)
	}
}
