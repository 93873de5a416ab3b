package main

import (
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	lsyslog "github.com/sirupsen/logrus/hooks/syslog"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
)

// systemConfig is used when -c is not given and it exists.
const systemConfig = "/etc/qscan/qscan.toml"

// loadConfig reads -c FILE; without it, /etc/qscan/qscan.toml, or else the
// embedded default configuration, resolved as if it were ./etc/qscan.toml
// (the demo layout of a checkout: queue/, quarantine/, work/).
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat(systemConfig); err == nil {
			path = systemConfig
		}
	}
	if path != "" {
		return config.Load(path)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return config.Parse(filepath.Join(wd, "etc", "qscan.toml"), etc.DefaultConfig)
}

// printConfigErrors writes every configuration error, one per line.
func printConfigErrors(w io.Writer, err error) {
	var es config.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, err)
}

// configAndLog loads the configuration and builds its logger, printing
// what is wrong; the exit code is exitOK when both worked.
func configAndLog(path string) (*config.Config, *logrus.Logger, int) {
	c, err := loadConfig(path)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return nil, nil, exitConfig
	}
	log, err := newLogger(c.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan:", err)
		return nil, nil, exitConfig
	}
	return c, log, exitOK
}

// newLogger builds the logger the configuration asks for.
func newLogger(c config.Log) (*logrus.Logger, error) {
	l := logrus.New()
	lvl, err := logrus.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	l.SetLevel(lvl)
	if c.Format == "json" {
		l.SetFormatter(&jsonFormatter{})
	} else {
		l.SetFormatter(lineFormatter{})
	}
	if c.Syslog {
		h, err := lsyslog.NewSyslogHook("", "", syslog.LOG_MAIL|syslog.LOG_INFO, "qscan")
		if err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
		l.AddHook(h)
		l.SetOutput(io.Discard)
	}
	return l, nil
}
