package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report prints the Markdown table.
func report(w io.Writer, n int, bytes int64, source string, floor, drain result, lat latency) {
	rate := func(r result) float64 { return float64(n) / r.wall.Seconds() }
	mbs := func(r result) float64 { return float64(bytes) / 1e6 / r.wall.Seconds() }
	fmt.Fprintf(w, "\n## qscan bench — %s, %s/%s, %d CPUs\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(w, "%d messages (%.1f MB) from %s; pass-through (no engines)\n\n", n, float64(bytes)/1e6, source)
	fmt.Fprintln(w, "| run | wall s | msg/s | MB/s | CPU s | peak RSS MB | vs floor |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| floor: read qf, link df, write+fsync+rename qf, unlink | %.2f | %.0f | %.1f | %.2f | – | 1.00 |\n",
		floor.wall.Seconds(), rate(floor), mbs(floor), floor.cpu.Seconds())
	fmt.Fprintf(w, "| qscan run --once | %.2f | %.0f | %.1f | %.2f | %.1f | %.2f |\n",
		drain.wall.Seconds(), rate(drain), mbs(drain), drain.cpu.Seconds(), float64(drain.maxRSS)/1024, rate(drain)/rate(floor))
	fmt.Fprintf(w, "\nPick-up latency (daemon, %d messages offered at %d msg/s, incoming qf → outgoing qf): p50 %s, p99 %s, max %s\n",
		lat.n, lat.rate, lat.p50.Round(10*time.Microsecond), lat.p99.Round(10*time.Microsecond), lat.max.Round(10*time.Microsecond))
}
