package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// userHZ is the unit of the times in /proc/PID/stat on Linux.
const userHZ = 100

// procStat is what daemonCPU needs of /proc/PID/stat.
type procStat struct {
	ppid     int
	self     time.Duration // utime + stime (all threads)
	children time.Duration // cutime + cstime: children reaped so far
}

// parseStat reads one /proc/PID/stat line. The command name is in
// parentheses and may hold spaces and parentheses, so fields are counted
// after the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse stat: no ')' in %q", b)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("parse stat: %d fields after the name", len(f))
	}
	var v [5]int64
	for k, idx := range []int{1, 11, 12, 13, 14} {
		n, err := strconv.ParseInt(string(f[idx]), 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("parse stat field %d: %w", idx+3, err)
		}
		v[k] = n
	}
	tick := time.Second / userHZ
	return procStat{ppid: int(v[0]), self: time.Duration(v[1]+v[2]) * tick, children: time.Duration(v[3]+v[4]) * tick}, nil
}

// readPid reads the pid on the first line of a pid file.
func readPid(pidFile string) (int, error) {
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(bytes.SplitN(raw, []byte("\n"), 2)[0])))
	if err != nil {
		return 0, fmt.Errorf("%s: %v", pidFile, err)
	}
	return pid, nil
}

// children lists the live processes in procDir whose parent is pid, with
// what their stat says.
func children(procDir string, pid int) map[int]procStat {
	out := map[int]procStat{}
	all, _ := filepath.Glob(filepath.Join(procDir, "[0-9]*", "stat"))
	for _, p := range all {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		child, cerr := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil && cerr == nil && st.ppid == pid {
			out[child] = st
		}
	}
	return out
}

// daemonCPU returns the CPU time used so far by the daemon whose pid is in
// pidFile, its reaped children and its live children (spamd does its work
// in pre-forked children). ok is false when it cannot be read.
func daemonCPU(procDir, pidFile string) (d time.Duration, ok bool) {
	pid, err := readPid(pidFile)
	if err != nil {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	st, err := parseStat(b)
	if err != nil {
		return 0, false
	}
	d = st.self + st.children
	for _, c := range children(procDir, pid) {
		d += c.self
	}
	return d, true
}

// cpuMeter measures the CPU the stack daemons use during one run.
type cpuMeter struct {
	read  func() (map[string]time.Duration, bool) // the daemons' CPU so far
	start map[string]time.Duration
	ok    bool
}

func startCPU(st stack, daemons []string) *cpuMeter {
	m := &cpuMeter{read: func() (map[string]time.Duration, bool) { return readCPU(st, daemons) }}
	m.start, m.ok = m.read()
	return m
}

// stop returns the CPU used since start, in all and by daemon; -1 and nil
// when unknown.
func (m *cpuMeter) stop() (time.Duration, map[string]time.Duration) {
	now, ok := m.read()
	if !m.ok || !ok {
		return -1, nil
	}
	var total time.Duration
	by := map[string]time.Duration{}
	for d, v := range now {
		by[d] = v - m.start[d]
		total += by[d]
	}
	return total, by
}

// readCPU returns each daemon's CPU time so far; ok is false when one of
// them cannot be read, or there are none.
func readCPU(st stack, daemons []string) (map[string]time.Duration, bool) {
	by := map[string]time.Duration{}
	ok := len(daemons) > 0
	for _, d := range daemons {
		v, vok := daemonCPU("/proc", st.pidFile(d))
		ok = ok && vok
		by[d] = v
	}
	return by, ok
}
