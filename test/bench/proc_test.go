package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// stat builds a /proc/PID/stat line; the times are in ticks.
func stat(pid, ppid int, name string, utime, stime, cutime, cstime int) string {
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 %d %d %d %d 20 0 1 0 100 1000 10\n",
		pid, name, ppid, pid, pid, utime, stime, cutime, cstime)
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in      string
		want    procStat
		wantErr bool
	}{
		{stat(10, 1, "clamd", 150, 50, 0, 0), procStat{ppid: 1, self: 2 * time.Second}, false},
		// A name with spaces and parentheses: fields count after the last ')'.
		{stat(11, 10, "spamd child) (x", 7, 3, 20, 10), procStat{ppid: 10, self: 100 * time.Millisecond, children: 300 * time.Millisecond}, false},
		{"12 (short) S 1 2", procStat{}, true},
		{"no parenthesis", procStat{}, true},
		{"13 (bad) S 1 13 13 0 -1 0 0 0 0 0 x 1 1 1", procStat{}, true},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestDaemonCPU sums the daemon, its reaped children and its live
// children, and nothing else.
func TestDaemonCPU(t *testing.T) {
	proc := t.TempDir()
	write := func(pid int, line string) {
		d := filepath.Join(proc, fmt.Sprint(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(100, stat(100, 1, "spamd", 10, 10, 30, 20))       // 0.2 s + 0.5 s reaped
	write(101, stat(101, 100, "spamd child", 40, 10, 0, 0)) // 0.5 s
	write(102, stat(102, 100, "spamd child", 5, 5, 0, 0))   // 0.1 s
	write(103, stat(103, 1, "other", 1000, 0, 0, 0))        // not ours
	pidFile := filepath.Join(t.TempDir(), "spamd.pid")
	os.WriteFile(pidFile, []byte("100\n"), 0o644)
	if got, ok := daemonCPU(proc, pidFile); !ok || got != 1300*time.Millisecond {
		t.Errorf("daemonCPU = %v, %v; want 1.3s, true", got, ok)
	}
	if _, ok := daemonCPU(proc, filepath.Join(t.TempDir(), "missing.pid")); ok {
		t.Error("daemonCPU(missing pid file) ok, want not ok")
	}
	os.WriteFile(pidFile, []byte("999\n"), 0o644)
	if _, ok := daemonCPU(proc, pidFile); ok {
		t.Error("daemonCPU(dead pid) ok, want not ok")
	}
}

func TestCPUMeterUnknown(t *testing.T) {
	m := startCPU(stack{}, []string{"clamd"})
	if got, by := m.stop(); got != -1 || by != nil {
		t.Errorf("cpuMeter without a stack = %v, %v; want -1, nil (unknown)", got, by)
	}
}
