package health_test

import (
	"fmt"
	"os"
	"time"

	"github.com/qscan/qscan/pkg/health"
)

// Example shows `qscan check --restart` as the cron job runs it: print
// the problems (cron mails them), stop a stuck daemon, start one that is
// not running, as user qscan.
func Example() {
	problems := health.Check(health.Options{
		PidFile:     "/run/qscan/qscan.pid",
		StatusDir:   "/var/spool/qscan/work",
		OffFile:     "/run/qscan/qscan.off",
		Incoming:    []string{"/var/spool/mqueue.in"},
		Filesystems: []string{"/var/spool/qscan/work", "/var/spool/mqueue.in", "/var/spool/mqueue", "/var/spool/qscan/quarantine"},
	}, time.Now())
	restart := false
	for _, p := range problems {
		fmt.Println(p)
		switch p.Kind {
		case health.KindNotRunning:
			restart = true
		case health.KindStuck:
			if err := health.Stop(p.PID, 6*time.Minute); err != nil {
				fmt.Fprintln(os.Stderr, err)
				continue
			}
			restart = true
		}
	}
	if restart {
		argv := []string{"/usr/sbin/qscan", "run", "-c", "/etc/qscan/qscan.toml"}
		if pid, err := health.RestartAs(argv, "/var/log/qscan/qscan.log", "qscan"); err != nil {
			fmt.Println("restart failed:", err)
		} else {
			fmt.Println("qscan restarted, pid", pid)
		}
	}
}

// ExampleReporter shows the daemon side: the pipeline records engine
// states and batches, a ticker keeps the heartbeat going.
func ExampleReporter() {
	dir, _ := os.MkdirTemp("", "qscan-status")
	defer os.RemoveAll(dir)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := health.NewReporter(dir, health.Status{PID: 1234, Version: "1.0", Started: now}, health.ReporterOptions{})
	r.SetEngine("clamd", false, "clamd connect /run/clamav/clamd.ctl: connection refused", now)
	r.SetHeld(3)
	if err := r.Flush(now); err != nil {
		fmt.Println(err)
	}
	s, _ := health.ReadStatus(dir)
	fmt.Println(s.PID, s.Held, s.Engines["clamd"].Up)
	// Output: 1234 3 false
}
