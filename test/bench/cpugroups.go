package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// cpuGroups is the CPU the processes of the filter layout have used so
// far, from /proc: the filter Postfix (its master, the children it
// reaped, its live children), the sink, and the bench itself (the SMTP
// clients that submit). A child alive at the first reading and reaped by
// the second is counted once: in the live sum, then in the master's.
type cpuGroups struct{ postfix, sink, bench time.Duration }

func (g cpuGroups) sub(o cpuGroups) cpuGroups {
	return cpuGroups{g.postfix - o.postfix, g.sink - o.sink, g.bench - o.bench}
}

func groupCPU(pf stackutil.PostfixFilter) cpuGroups {
	var g cpuGroups
	master := masterPid(pf.Queue)
	des, _ := os.ReadDir("/proc")
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		f := statFields(pid)
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		own, reaped := ticks(f[11])+ticks(f[12]), ticks(f[13])+ticks(f[14])
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		switch {
		case master > 0 && pid == master:
			g.postfix += own + reaped
		case master > 0 && ppid == master:
			g.postfix += own
		case string(bytes.TrimSpace(comm)) == "qscan-sink":
			g.sink += own + reaped
		case pid == os.Getpid():
			g.bench += own
		}
	}
	return g
}

// masterPid reads the Postfix master's PID file of a queue directory; 0
// when there is none.
func masterPid(queue string) int {
	b, err := os.ReadFile(queue + "/pid/master.pid")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func ticks(s string) time.Duration {
	v, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(v) * 10 * time.Millisecond // USER_HZ 100
}
