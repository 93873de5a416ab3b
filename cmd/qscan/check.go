package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
)

// cmdCheck is the health check cron runs: silent and exit 0 when healthy,
// one line per problem and exit 1 otherwise; --restart starts a daemon
// that is not running (and replaces a stuck one).
func cmdCheck(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "configuration file")
	restart := fs.Bool("restart", false, "start the daemon when it is not running (or stuck)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	problems := health.Check(checkOptions(c), time.Now())
	start := false
	for _, p := range problems {
		fmt.Println(p)
		switch p.Kind {
		case health.KindNotRunning:
			start = true
		case health.KindStuck:
			if *restart {
				if err := health.Stop(p.PID, time.Minute); err != nil {
					fmt.Println("qscan check: cannot stop the stuck daemon:", err)
					continue
				}
				start = true
			}
		}
	}
	if *restart && start {
		if msg, err := startDaemon(c, *cfgPath); err != nil {
			fmt.Println("qscan check: restart failed:", err)
		} else {
			fmt.Println("qscan check:", msg)
		}
	}
	if len(problems) > 0 {
		return exitFail
	}
	return exitOK
}

func checkOptions(c *config.Config) health.Options {
	fsys := append([]string{c.Queue.WorkDir, c.Queue.Outgoing, c.Quarantine.Dir}, c.Queue.Incoming...)
	incoming := c.Queue.Incoming
	if c.SMTP.On() {
		// The filter's spool: its depth and back-pressure come with the
		// daemon's status.
		fsys, incoming = []string{c.Queue.WorkDir, c.SMTP.Spool, c.Quarantine.Dir}, nil
	}
	return health.Options{
		PidFile: c.Queue.PidFile, StatusDir: c.Queue.WorkDir, Incoming: incoming, OffFile: c.Check.OffFile,
		QueueMaxAge: c.Check.QueueMaxAge.D(), EngineDownMax: c.Check.EngineDownMax.D(), StatusMaxAge: c.Check.StatusMaxAge.D(),
		BatchMaxAge: c.Check.BatchMaxAge.D(), Filesystems: fsys, MinFreePercent: c.Check.MinFreePercent,
		MinFreeBytes: uint64(c.Check.MinFreeBytes),
	}
}

// startDaemon starts `qscan run` detached (see health.Start).
func startDaemon(c *config.Config, cfgPath string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	argv := []string{self, "run"}
	if cfgPath != "" {
		abs, _ := filepath.Abs(cfgPath)
		argv = append(argv, "-c", abs)
	}
	logFile := c.Check.RestartLog
	if logFile == "" {
		logFile = filepath.Join(c.Queue.WorkDir, "qscan.log")
	}
	return health.Start(argv, health.StartOptions{PidFile: c.Queue.PidFile, LogFile: logFile, WorkDir: c.Queue.WorkDir, Stderr: os.Stderr})
}
