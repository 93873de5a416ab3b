package stackutil

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// rssEvery is how often RunPeakRSS samples.
const rssEvery = 2 * time.Millisecond

// RunPeakRSS runs cmd and returns its peak resident set in KiB (VmHWM,
// sampled every 2 ms while it runs; 0 if never read) with cmd.Wait's
// error.
//
// The rusage of the exited process cannot give it: Go starts a child
// with vfork, and Linux carries the parent's own peak into the child's
// ru_maxrss at exec, so a test or bench holding its inputs in memory
// would report its own size for the child. VmHWM belongs to the child's
// memory alone; it only grows, so the last sample is the peak up to 2 ms
// before the exit.
func RunPeakRSS(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	status := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status"
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var max int64
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for {
			if v := vmHWM(status); v > max {
				max = v
			}
			select {
			case <-done:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return <-peak, err
}

// vmHWM reads the VmHWM line of a /proc status file, in KiB; 0 when it
// cannot (the process is gone, or a zombie without memory).
func vmHWM(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
