package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/pkg/store"
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
	outboxBad := false
	if shared(c) {
		if msg, bad := checkOutbox(c, time.Now()); bad {
			fmt.Println(msg)
			outboxBad = true
		}
	}
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
	if len(problems) > 0 || outboxBad {
		return exitFail
	}
	return exitOK
}

// checkOutbox says how far behind the message-log outbox is, and whether
// that is a problem (its oldest row older than [check] outbox_max_age).
func checkOutbox(c *config.Config, now time.Time) (string, bool) {
	lag, err := store.PathOutboxLag(context.Background(), c.Store.Path)
	if err != nil {
		return fmt.Sprintf("message log outbox: %v", err), true
	}
	age := lag.Age(now).Truncate(time.Second)
	msg := fmt.Sprintf("message log outbox: %d rows wait for PostgreSQL, the oldest %s old", lag.Rows, age)
	return msg, lag.Rows > 0 && age > c.Check.OutboxMaxAge.D()
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
		MinFreeBytes: uint64(c.Check.MinFreeBytes), QueueLayout: queueLayout(c),
	}
}

// queueLayout is where the MTA of [queue] mta keeps its incoming control
// files, for the queue checks (nil: sendmail's).
func queueLayout(c *config.Config) func(dir string) ([]string, func(string) (string, bool)) {
	var m pipeline.MTA
	switch c.Queue.MTA {
	case "exim":
		m = pipeline.NewExim(exim.Limits{}, false, nil)
	case "postfix":
		m = pipeline.NewPostfix(postfix.Limits{}, postfix.Queue{}, nil) // listing needs no main.cf settings
	default:
		return nil
	}
	return func(dir string) ([]string, func(string) (string, bool)) {
		dirs, match := m.Watch(dir)
		return dirs, func(name string) (string, bool) { return strings.TrimSuffix(name, "-H"), match(name) }
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
