package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// tomlList writes a TOML array of strings.
func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// configText is the qscan configuration of one bench run. Reports to the
// postmaster and notices to senders are off, so that the outgoing queue
// holds exactly the bench messages; the built-in engine uses its EICAR
// signature only.
func configText(c drainConfig) string {
	level := "warn"
	if os.Getenv("BENCH_LOG_DIR") != "" {
		level = "info" // for performance work: every batch's stage timings
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[queue]
incoming = "in"
outgoing = "out"
work_dir = "work"
pid_file = "work/qscan.pid"
[quarantine]
dir = "quarantine"
[store]
path = "work/qscan.db"
[log]
level = %q
format = "json"
[notify]
postmaster = ""
sender_viruses = false
sender_blocked = false
sender_other = false
`, level)
	fmt.Fprintf(&b, "[batch]\nworkers = %d\n", cmp.Or(c.workers, c.conc))
	fmt.Fprintf(&b, "[virus]\nscanners = %s\n", tomlList(c.set.virus))
	b.WriteString("[virus.builtin]\nsignatures = \"\"\n")
	if c.set.uses("clamd") {
		fmt.Fprintf(&b, "[virus.clamd]\nsocket = \"\"\naddress = %q\nmax_connections = %d\n", c.clamd, c.conc)
	}
	fmt.Fprintf(&b, "[spam]\nengines = %s\n", tomlList(c.set.spam))
	if c.set.uses("spamd") {
		fmt.Fprintf(&b, "[spam.spamd]\naddress = %q\nmax_connections = %d\n", c.spamd, c.conc)
	}
	return b.String()
}

// writeConfig writes the configuration and the directories of a bench
// run under root and returns the configuration's path.
func writeConfig(root string, c drainConfig) (string, error) {
	for _, d := range []string{"in", "out", "quarantine"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return "", err
		}
	}
	p := filepath.Join(root, "qscan.toml")
	return p, os.WriteFile(p, []byte(configText(c)), 0o600)
}
