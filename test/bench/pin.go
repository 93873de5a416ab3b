package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// parseCPUs reads a CPU list as taskset -c takes it ("0", "0,2", "1-3")
// for a machine of n CPUs.
func parseCPUs(s string, n int) (unix.CPUSet, error) {
	var set unix.CPUSet
	for _, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(item), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= n {
			return set, fmt.Errorf("CPU list %q: %q is not a CPU or range of CPUs 0-%d", s, item, n-1)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

// others is every CPU of n not in set.
func others(set unix.CPUSet, n int) unix.CPUSet {
	var out unix.CPUSet
	for c := range n {
		if !set.IsSet(c) {
			out.Set(c)
		}
	}
	return out
}

// tasks lists the threads of pid and of its child processes (spamd works
// in pre-forked children) from procDir.
func tasks(procDir string, pid int) []int {
	pids := []int{pid}
	for c := range children(procDir, pid) {
		pids = append(pids, c)
	}
	var out []int
	for _, p := range pids {
		ts, _ := filepath.Glob(filepath.Join(procDir, strconv.Itoa(p), "task", "[0-9]*"))
		for _, t := range ts {
			if id, err := strconv.Atoi(filepath.Base(t)); err == nil {
				out = append(out, id)
			}
		}
	}
	return out
}

// pinDaemon binds every thread of the daemon whose pid is in pidFile, and
// of its children, to set, and returns what sets them back to the CPUs the
// daemon had. Threads the daemon starts later inherit the binding.
func pinDaemon(pidFile string, set unix.CPUSet) (restore func(), err error) {
	pid, err := readPid(pidFile)
	if err != nil {
		return nil, err
	}
	var before unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &before); err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	if err := pinTasks(tasks("/proc", pid), set); err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	return func() { pinTasks(tasks("/proc", pid), before) }, nil
}

// pinTasks binds the threads to set; a thread that has ended meanwhile is
// no error.
func pinTasks(tids []int, set unix.CPUSet) error {
	if len(tids) == 0 {
		return fmt.Errorf("no threads")
	}
	for _, t := range tids {
		if err := unix.SchedSetaffinity(t, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("thread %d: %w", t, err)
		}
	}
	return nil
}

// cpuList writes a set as a list of CPUs.
func cpuList(set unix.CPUSet, n int) string {
	var out []string
	for c := range n {
		if set.IsSet(c) {
			out = append(out, strconv.Itoa(c))
		}
	}
	return strings.Join(out, ",")
}
