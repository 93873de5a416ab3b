package main

import (
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/config"
)

func TestSMTPOptions(t *testing.T) {
	c := config.Defaults()
	c.SMTP.Listen = config.StringList{"127.0.0.1:10024"}
	c.SMTP.Clients = []string{"192.0.2.0/24"}
	c.SMTP.MaxMessageSize = 1 << 20
	c.SMTP.ReinjectConnections = 7
	c.Notify.Hostname = "mx.example.org"
	fo, ro, p, err := smtpOptions(&c)
	if err != nil {
		t.Fatal(err)
	}
	if len(fo.Listen) != 1 || fo.Clients[0].String() != "192.0.2.0/24" || fo.MaxMessageBytes != 1<<20 || fo.Domain != "mx.example.org" ||
		fo.CommandTimeout != 5*time.Minute || fo.DataTimeout != 10*time.Minute || fo.MaxRecipients != 1000 || fo.MaxConnections != 20 {
		t.Errorf("filter options %+v", fo)
	}
	if ro.Addr != "127.0.0.1:10025" || ro.Connections != 7 || ro.Helo != "mx.example.org" {
		t.Errorf("reinject options %+v", ro)
	}
	if p.Spool.Dir != "/var/spool/qscan/spool" || p.MaxBytes != 2<<30 || p.MinFree != 500<<20 {
		t.Errorf("pressure %+v", p)
	}
	c.SMTP.Clients = []string{"nowhere"}
	if _, _, _, err := smtpOptions(&c); err == nil {
		t.Error("bad clients accepted")
	}
}
