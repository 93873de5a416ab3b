package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseCPUs(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string // cpuList of the result; "" for an error
	}{
		{"0", 2, "0"},
		{"1", 2, "1"},
		{"0,2", 4, "0,2"},
		{"1-3", 4, "1,2,3"},
		{" 0 , 2-3", 4, "0,2,3"},
		{"2", 2, ""}, // no CPU 2 on a machine of 2
		{"3-1", 4, ""},
		{"-1", 4, ""},
		{"x", 4, ""},
		{"", 4, ""},
	}
	for _, tt := range tests {
		set, err := parseCPUs(tt.in, tt.n)
		got := ""
		if err == nil {
			got = cpuList(set, tt.n)
		}
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("parseCPUs(%q, %d) = %q, %v; want %q", tt.in, tt.n, got, err, tt.want)
		}
	}
	set, _ := parseCPUs("0,2", 4)
	if got := cpuList(others(set, 4), 4); got != "1,3" {
		t.Errorf("others(0,2 of 4) = %s, want 1,3", got)
	}
}

// tasks finds the threads of a process and of its children, not those of
// other processes.
func TestTasks(t *testing.T) {
	proc := t.TempDir()
	proc1 := func(pid, ppid int, tids ...int) {
		dir := filepath.Join(proc, strconv.Itoa(pid))
		for _, tid := range tids {
			os.MkdirAll(filepath.Join(dir, "task", strconv.Itoa(tid)), 0o755)
		}
		os.WriteFile(filepath.Join(dir, "stat"), []byte(stat(pid, ppid, "d", 0, 0, 0, 0)), 0o644)
	}
	proc1(100, 1, 100, 105, 106) // the daemon and two threads
	proc1(101, 100, 101)         // a child
	proc1(200, 1, 200, 201)      // not ours
	got := tasks(proc, 100)
	slices.Sort(got)
	if want := []int{100, 101, 105, 106}; !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
}

// pinDaemon binds a running process's threads and restore gives them
// back their CPUs.
func TestPinDaemon(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to bind to")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer cmd.Process.Kill()
	pidFile := filepath.Join(t.TempDir(), "d.pid")
	os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	var before, during, after unix.CPUSet
	unix.SchedGetaffinity(cmd.Process.Pid, &before)
	var one unix.CPUSet
	one.Set(1)
	restore, err := pinDaemon(pidFile, one)
	if err != nil {
		t.Fatal(err)
	}
	unix.SchedGetaffinity(cmd.Process.Pid, &during)
	restore()
	unix.SchedGetaffinity(cmd.Process.Pid, &after)
	n := runtime.NumCPU()
	if cpuList(during, n) != "1" || after != before {
		t.Errorf("CPUs before %s, bound %s, restored %s; want 1 while bound, then as before", cpuList(before, n), cpuList(during, n), cpuList(after, n))
	}
	if _, err := pinDaemon(filepath.Join(t.TempDir(), "missing.pid"), one); err == nil {
		t.Error("pinDaemon(missing pid file) succeeded, want an error")
	}
}
