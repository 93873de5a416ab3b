package main

import (
	"cmp"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/test/stackutil"
)

// drainConfig is what a bench run's qscan configuration varies in.
type drainConfig struct {
	set   engineSet
	clamd string // clamd TCP address qscan is given (a counting proxy)
	spamd string // spamd TCP address
	// conc is qscan's connections to each engine (max_connections), the
	// number the engine-alone clients use; workers the messages checked
	// at once ([batch] workers), conc when 0.
	conc, workers int
}

// benchConfig is the qscan configuration of one bench run. Reports to the
// postmaster and notices to senders are off, so that the outgoing queue
// holds exactly the bench messages; the built-in engine uses its EICAR
// signature only.
func benchConfig(c drainConfig) stackutil.Config {
	level := "warn"
	if os.Getenv("BENCH_LOG_DIR") != "" {
		level = "info" // for performance work: every batch's stage timings
	}
	bc := stackutil.Config{Incoming: "in", Outgoing: "out", WorkDir: "work", Quarantine: "quarantine",
		LogLevel: level, LogFormat: "json", Notify: &stackutil.Notify{NoSenderNotices: true},
		Workers: cmp.Or(c.workers, c.conc), Virus: append([]string{}, c.set.virus...), NoSignatures: true,
		Spam: &stackutil.Spam{Engines: c.set.spam}}
	if c.set.uses("clamd") {
		bc.Clamd = stackutil.Engine{Address: c.clamd, MaxConnections: c.conc}
	}
	if c.set.uses("spamd") {
		bc.Spam.Spamd = stackutil.Engine{Address: c.spamd, MaxConnections: c.conc}
	}
	return bc
}

// writeConfig writes the configuration and the directories of a bench
// run under root and returns the configuration's path.
func writeConfig(root string, c drainConfig) (string, error) {
	for _, d := range []string{"in", "out", "quarantine"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return "", err
		}
	}
	return benchConfig(c).Write(root)
}
