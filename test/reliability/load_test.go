//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestLoad offers mail by SMTP to sendmail-in as fast as it takes it, over
// several connections, with the daemon (real clamd, kick on) draining it.
// It reports the accept and delivery rates and qscan's RSS, sampled from
// /proc every second, and fails if memory keeps growing.
func TestLoad(t *testing.T) {
	sc := relScale()
	s := requireStack(t, "sink", "sendmail", "clamd")
	emptyStack(t, s)
	bin := stackutil.Binary(t)
	cfgPath := writeConfig(t, cfg{incoming: s.Incoming, outgoing: s.Outgoing, kick: true, sendmailCF: s.CF,
		maxMessages: 30, clamd: s.ClamdAddr, clamdTimeout: "5s"})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer d.Shutdown(t)
	samples := make(chan []rssSample, 1)
	stop := make(chan struct{})
	go func() { samples <- sampleRSS(d.Pid(), stop) }()
	gen := func(i int) stackutil.Msg { return stackutil.Message("rel", i, "load", i%200 == 11) }
	start := time.Now()
	sub := submitGen(s.SMTPIn, sc.loadMsgs, gen, sc.loadConns)
	if sub.Failures > 0 {
		t.Errorf("%d messages could not be submitted: %v", sub.Failures, sub.LastErr)
	}
	drained := stackutil.WaitUntil(30*time.Minute, func() bool { return count(s.Incoming, "qf*") == 0 })
	drainTime := time.Since(start)
	if !drained {
		t.Errorf("incoming still holds %d messages after 30 min", count(s.Incoming, "qf*"))
	}
	got, err := stackutil.WaitSink(s.SinkDir, sub.Sent, 10*time.Minute)
	if err != nil {
		stackutil.Flush()
		got, _ = stackutil.WaitSink(s.SinkDir, sub.Sent, 2*time.Minute)
	}
	sinkTime := time.Since(start)
	close(stop)
	rss := <-samples
	seen := map[string]int{}
	eicarOut := 0
	for _, m := range got {
		seen[stackutil.HeaderValue(m.Data, "Message-ID")]++
		if hasEICAR(m.Data) {
			eicarOut++
		}
	}
	lost, dups := 0, 0
	for i := 0; i < sc.loadMsgs; i++ {
		switch n := seen[fmt.Sprintf("<load-%d@rel.example>", i)]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	if lost+dups+eicarOut > 0 {
		t.Errorf("lost %d, duplicated %d, delivered with EICAR %d", lost, dups, eicarOut)
	}
	peak, first, last := rssQuarters(rss)
	if first > 0 && float64(last) > 1.5*float64(first) {
		t.Errorf("RSS grows: peak %d MB in the first quarter, %d MB in the last", first>>20, last>>20)
	}
	batches := stackutil.BatchTimes(stackutil.ReadLog(logFile))
	var tb table
	tb.head = []string{"offered", "accepted", "SMTP conns", "accept rate (msg/s)", "qscan drain rate (msg/s)", "end-to-end rate (msg/s)", "lost", "duplicated", "EICAR delivered", "batches", "max batch", "peak RSS", "peak RSS 1st / last quarter"}
	tb.add(sc.loadMsgs, sub.Sent, sc.loadConns, rate(sub.Sent, sub.Elapsed), rate(sub.Sent, drainTime), rate(len(got), sinkTime), lost, dups, eicarOut,
		len(batches), maxDur(batches).Round(time.Millisecond), fmt.Sprintf("%d MB", peak>>20), fmt.Sprintf("%d / %d MB", first>>20, last>>20))
	record(t, 50, fmt.Sprintf("Messages of 1–27 KB (one in 200 carrying EICAR) by SMTP to sendmail-in; qscan daemon with the real clamd, kick on, batches of 30. "+
		"Submission took %s (%d retries after temporary failures); the incoming queue was empty %s after the start, the sink complete after %s. "+
		"RSS sampled every second (%d samples).", sub.Elapsed.Round(time.Second), sub.Retries, drainTime.Round(time.Second), sinkTime.Round(time.Second), len(rss)), tb)
}

func rate(n int, d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(n)/d.Seconds())
}

type rssSample struct {
	at  time.Time
	rss int64
}

// sampleRSS reads VmRSS of pid every second until stop is closed.
func sampleRSS(pid int, stop chan struct{}) []rssSample {
	var out []rssSample
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				out = append(out, rssSample{time.Now(), kb << 10})
			}
		}
	}
}

// rssQuarters returns the peak RSS overall, in the first and in the last
// quarter of the samples.
func rssQuarters(s []rssSample) (peak, first, last int64) {
	q := len(s) / 4
	for i, x := range s {
		peak = max(peak, x.rss)
		if i < max(q, 1) {
			first = max(first, x.rss)
		}
		if i >= len(s)-max(q, 1) {
			last = max(last, x.rss)
		}
	}
	return peak, first, last
}
