package main

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/sirupsen/logrus"
)

// lineFormatter writes sendmail/MailScanner-style text lines:
//
//	2026-11-24T01:37:40Z info 6AM8Fa4W008391 from=<a@b> to=<c@d> size=1234 verdict=clean action=delivered ms=3
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
