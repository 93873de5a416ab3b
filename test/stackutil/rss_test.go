package stackutil

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestRSSChild is the child of TestRunPeakRSS: it holds 100 MB.
func TestRSSChild(t *testing.T) {
	if os.Getenv("STACKUTIL_RSS_CHILD") == "" {
		t.Skip("run by TestRunPeakRSS")
	}
	b := make([]byte, 100<<20)
	for i := range b {
		b[i] = 1 // resident
	}
	time.Sleep(100 * time.Millisecond)
	runtime.KeepAlive(b)
}

// The peak of a child is its own, not its parent's: this test process
// holds 300 MB while its children run, one small, one taking 100 MB.
func TestRunPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	ballast := make([]byte, 300<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	small, err := RunPeakRSS(exec.Command("sleep", "0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if small <= 0 || small > 50<<10 {
		t.Errorf("sleep: peak RSS %d KiB, want above 0 and far below this process's 300 MB", small)
	}
	t.Logf("sleep: peak RSS %d KiB; its rusage says %d KiB", small, maxrss(exec.Command("sleep", "0")))
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$")
	cmd.Env = append(os.Environ(), "STACKUTIL_RSS_CHILD=1")
	big, err := RunPeakRSS(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if big < 100<<10 || big > 200<<10 {
		t.Errorf("child holding 100 MB: peak RSS %d KiB, want 100-200 MB", big)
	}
	runtime.KeepAlive(ballast)
}

func maxrss(cmd *exec.Cmd) int64 {
	if cmd.Run() != nil {
		return -1
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}
