package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
)

// TestLintDNSBL: a list whose zone answers (listed or NXDOMAIN) is ok; one
// whose lookups fail is reported.
func TestLintDNSBL(t *testing.T) {
	c := &config.Config{Spam: config.Spam{Engines: []string{"dnsbl"}, DNSBL: config.DNSBL{Timeout: config.Duration(time.Second), Lists: []config.BLEntry{
		{Name: "good", Zone: "good.example", Kind: "ip"},
		{Name: "empty", Zone: "empty.example", Kind: "domain"},
		{Name: "dead", Zone: "dead.example", Kind: "ip"},
	}}}}
	var asked []string
	lookup := func(_ context.Context, host string) ([]string, error) {
		asked = append(asked, host)
		switch {
		case strings.HasSuffix(host, "good.example"):
			return []string{"127.0.0.2"}, nil
		case strings.HasSuffix(host, "empty.example"):
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	ts, err := engineTests(c, lookup)
	if err != nil {
		t.Fatal(err)
	}
	var res []health.ProbeResult
	for _, tc := range ts { // one at a time: the fake records what it is asked
		res = append(res, health.RunProbes(context.Background(), []health.Probe{tc})...)
	}
	if len(res) != 3 || len(res[0].Errs) != 0 || len(res[1].Errs) != 0 || len(res[2].Errs) != 1 {
		t.Fatalf("dnsbl results = %+v, want good and empty ok, dead failed", res)
	}
	var de *net.DNSError
	if !errors.As(res[2].Errs[0], &de) || !strings.Contains(res[2].Errs[0].Error(), "2.0.0.127.dead.example") {
		t.Errorf("dead list error = %v", res[2].Errs[0])
	}
	if want := "2.0.0.127.good.example test.empty.example 2.0.0.127.dead.example"; strings.Join(asked, " ") != want {
		t.Errorf("looked up %q, want %q", strings.Join(asked, " "), want)
	}
}

// TestLintPooledServers: with servers lists, lint tests each server on its
// own (a pool passes while one is up; lint names the one that is not).
func TestLintPooledServers(t *testing.T) {
	c := &config.Config{
		Virus: config.Virus{Scanners: []string{"clamd"}, Clamd: config.Clamd{Timeout: config.Duration(time.Second),
			Servers: []string{"127.0.0.1:1", "/nonexistent/clamd.ctl"}}},
		Spam: config.Spam{Engines: []string{"spamd", "rspamd"},
			Spamd:  config.Spamd{Timeout: config.Duration(time.Second), Servers: []string{"127.0.0.1:2", "127.0.0.1:3"}},
			Rspamd: config.Rspamd{Timeout: config.Duration(time.Second), URLs: []string{"http://127.0.0.1:4", "http://127.0.0.1:5"}}},
	}
	ts, err := engineTests(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ts {
		names = append(names, p.Name)
	}
	want := []string{"virus clamd tcp:127.0.0.1:1", "virus clamd unix:/nonexistent/clamd.ctl",
		"spam spamd 127.0.0.1:2", "spam spamd 127.0.0.1:3", "spam rspamd http://127.0.0.1:4/checkv2", "spam rspamd http://127.0.0.1:5/checkv2"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("probes = %q, want %q", names, want)
	}
}
