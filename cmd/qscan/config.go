package main

import (
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
	lsyslog "github.com/sirupsen/logrus/hooks/syslog"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/smtpfilter"
	"github.com/qscan/qscan/pkg/spool"
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

// smtpOptions maps [smtp] to the options of the filter's front end, of the
// re-injection and of the spool's back-pressure check. The daemon adds
// what is not configuration: the spool (spool.Open of c.SMTP.Spool, then
// Clean before Listen) in both Options.Spool and Pressure.Spool,
// Options.IDs, Options.Accepting (engines up and Pressure.Check),
// Options.Queued and Options.Log.
func smtpOptions(c *config.Config) (smtpfilter.Options, reinject.Options, *spool.Pressure, error) {
	s := c.SMTP
	clients, err := smtpfilter.ParseClients(s.Clients)
	if err != nil {
		return smtpfilter.Options{}, reinject.Options{}, nil, err
	}
	host := c.Notify.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	fo := smtpfilter.Options{
		Listen:          s.Listen,
		LMTP:            s.LMTP,
		Clients:         clients,
		Domain:          host,
		MaxMessageBytes: int64(s.MaxMessageSize),
		MaxConnections:  s.MaxConnections,
		MaxRecipients:   s.MaxRecipients,
		CommandTimeout:  s.CommandTimeout.D(),
		DataTimeout:     s.DataTimeout.D(),
	}
	ro := reinject.Options{
		Addr:           s.Reinject,
		Connections:    s.ReinjectConnections,
		Helo:           host,
		CommandTimeout: s.CommandTimeout.D(),
		DataTimeout:    s.DataTimeout.D(),
	}
	p := &spool.Pressure{Spool: spool.Spool{Dir: s.Spool}, MaxBytes: int64(s.MaxSpoolBytes), MinFree: int64(s.MinFreeSpace), Clock: time.Now}
	return fo, ro, p, nil
}
