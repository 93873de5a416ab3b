package main

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/quarantine"
)

// lineFormatter writes sendmail/MailScanner-style text lines:
//
//	2026-11-24T01:37:40.123Z info 6AM8Fa4W008391 from=<a@b> to=<c@d> nrcpts=1 size=1234 verdict=clean virus=- spam=no(1.2) action=delivered quarantined=false reason=- attempt=1 ms=3
//
// Entries marked with the field "line" carry their fields in the message
// already, in a fixed order; other entries get their fields appended.
type lineFormatter struct{}

func (lineFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Level, e.Message)
	if _, inline := e.Data["line"]; !inline {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
		}
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// jsonFormatter is logrus's JSON without the "line" marker.
type jsonFormatter struct{ logrus.JSONFormatter }

func (f *jsonFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if _, ok := e.Data["line"]; ok {
		d := make(logrus.Fields, len(e.Data))
		for k, v := range e.Data {
			if k != "line" {
				d[k] = v
			}
		}
		c := *e
		c.Data = d
		e = &c
	}
	return f.JSONFormatter.Format(e)
}

// logRelease writes the log line of a release from the quarantine
// (pipeline.ReleaseLog) to the log the configuration names (syslog, on
// most servers, with the daemon's lines).
func logRelease(c *config.Config, q *quarantine.Quarantine, entryID, newID string) {
	log, err := newLogger(c.Log)
	if err != nil {
		return // the configuration was read: cannot happen
	}
	by := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		by = u.Username
	}
	pipeline.ReleaseLog(q, entryID, newID, by).Write(log, logrus.InfoLevel)
}
