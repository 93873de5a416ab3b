package main

import (
	"context"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/spam/dnsbl"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/clamd"
)

// lookupHost resolves a name; net.DefaultResolver.LookupHost, or a fake in
// tests.
type lookupHost func(ctx context.Context, host string) ([]string, error)

// engineTests lists the self tests of every engine the configuration
// turns on, in the order of the configuration, with their timeouts.
func engineTests(c *config.Config, lookup lookupHost) ([]health.Probe, error) {
	var ts []health.Probe
	for _, name := range c.Virus.Scanners {
		e, err := virusEngine(c.Virus, name)
		if err != nil {
			return nil, err
		}
		t := health.Probe{Name: "virus " + name, Run: func(ctx context.Context) ([]string, []error) { return virus.SelfTest(ctx, e) }}
		switch name {
		case "clamd":
			// Each server of a pool on its own: a pool passes while one
			// server is up, and lint is there to say which is not.
			var cls []*clamd.Client
			if pl, ok := e.(*virus.Pooled); ok {
				for _, s := range c.Virus.Clamd.Servers {
					socket, address := serverAddr(s)
					cl, err := clamd.New(clamdOptions(c.Virus.Clamd, socket, address))
					if err != nil {
						return nil, err
					}
					cls = append(cls, cl)
				}
				pl.Close()
			} else {
				cls = append(cls, e.(*clamd.Client))
			}
			for _, cl := range cls {
				ts = append(ts, health.Probe{Name: "virus clamd " + cl.String(), Run: cl.SelfTest, Timeout: 3 * c.Virus.Clamd.Timeout.D()})
			}
			continue
		case "command":
			t.Timeout = c.Virus.Command.Timeout.D()
		}
		ts = append(ts, t)
	}
	for _, name := range c.Spam.Engines {
		switch name {
		case "spamd":
			cls, err := spamdClients(c.Spam)
			if err != nil {
				return nil, err
			}
			for _, cl := range cls {
				ts = append(ts, health.Probe{Name: "spam spamd " + cl.Addr(), Run: cl.SelfTest, Timeout: 3 * c.Spam.Spamd.Timeout.D()})
			}
		case "rspamd":
			cls, err := rspamdClients(c.Spam)
			if err != nil {
				return nil, err
			}
			for _, cl := range cls {
				ts = append(ts, health.Probe{Name: "spam rspamd " + cl.Endpoint(), Run: cl.SelfTest, Timeout: 2 * c.Spam.Rspamd.Timeout.D()})
			}
		case "dnsbl":
			for _, l := range c.Spam.DNSBL.Lists {
				ts = append(ts, health.Probe{Name: "spam dnsbl " + l.Name + " (" + l.Zone + ")", Timeout: c.Spam.DNSBL.Timeout.D(),
					Run: func(ctx context.Context) ([]string, []error) {
						return dnsbl.TestZone(ctx, l.Zone, dnsbl.Kind(l.Kind), lookup)
					}})
			}
		}
	}
	if c.SMTP.On() {
		ts = append(ts, reinjectProbe(c))
	}
	return ts, nil
}
