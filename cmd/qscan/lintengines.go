package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/clamd"
)

// Test data the engines must recognise, as MailScanner's --lint uses them.
const (
	eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`
	gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
)

// lintTimeout bounds the test of one engine that has no timeout of its own.
const lintTimeout = 60 * time.Second

// engineTest is the test of one configured engine by `qscan lint`.
type engineTest struct {
	name string // "virus clamd unix:/run/clamav/clamd.ctl"
	// run tests the engine; it returns what it learnt (a version, a
	// score) and every problem found.
	run func(ctx context.Context) (info []string, errs []error)
	// timeout bounds run.
	timeout time.Duration
}

// engineResult is what one engineTest found.
type engineResult struct {
	name string
	info []string
	errs []error
}

// lookupHost resolves a name; net.DefaultResolver.LookupHost, or a fake in
// tests.
type lookupHost func(ctx context.Context, host string) ([]string, error)

// engineTests lists the tests of every engine the configuration turns on,
// in the order of the configuration.
func engineTests(c *config.Config, lookup lookupHost) ([]engineTest, error) {
	var ts []engineTest
	for _, name := range c.Virus.Scanners {
		e, err := virusEngine(c.Virus, name)
		if err != nil {
			return nil, err
		}
		t := engineTest{name: "virus " + name, run: scannerTest(e), timeout: lintTimeout}
		switch name {
		case "clamd":
			cl := e.(*clamd.Client)
			t.name += " " + cl.String()
			t.run, t.timeout = clamdTest(cl), 3*c.Virus.Clamd.Timeout.D()
		case "command":
			t.timeout = c.Virus.Command.Timeout.D()
		}
		ts = append(ts, t)
	}
	for _, name := range c.Spam.Engines {
		switch name {
		case "spamd":
			cl, err := spamdClient(c.Spam)
			if err != nil {
				return nil, err
			}
			ts = append(ts, engineTest{name: "spam spamd " + cl.Addr(), run: spamdTest(cl), timeout: 3 * c.Spam.Spamd.Timeout.D()})
		case "rspamd":
			cl, err := rspamdClient(c.Spam)
			if err != nil {
				return nil, err
			}
			ts = append(ts, engineTest{name: "spam rspamd " + cl.Endpoint(), run: rspamdTest(cl), timeout: 2 * c.Spam.Rspamd.Timeout.D()})
		case "dnsbl":
			for _, l := range c.Spam.DNSBL.Lists {
				ts = append(ts, engineTest{name: "spam dnsbl " + l.Name + " (" + l.Zone + ")", run: dnsblTest(l, lookup), timeout: c.Spam.DNSBL.Timeout.D()})
			}
		}
	}
	return ts, nil
}

// runEngineTests runs the tests side by side (a dead engine's timeout
// does not add to the others') and returns their results in order.
func runEngineTests(ctx context.Context, ts []engineTest) []engineResult {
	res := make([]engineResult, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := t.timeout
			if d <= 0 {
				d = lintTimeout
			}
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			info, errs := t.run(ctx)
			res[i] = engineResult{name: t.name, info: info, errs: errs}
		}()
	}
	wg.Wait()
	return res
}

// clamdTest asks clamd for PING and VERSION and scans EICAR and a few
// clean bytes through INSTREAM, as the daemon will.
func clamdTest(cl *clamd.Client) func(ctx context.Context) ([]string, []error) {
	return func(ctx context.Context) ([]string, []error) {
		defer cl.Close()
		if err := cl.Ping(ctx); err != nil {
			return nil, []error{err} // nothing else can work
		}
		var info []string
		var errs []error
		if v, err := cl.Version(ctx); err != nil {
			errs = append(errs, err)
		} else {
			info = append(info, v)
		}
		i, e := scannerTest(cl)(ctx)
		return append(info, i...), append(errs, e...)
	}
}

// scannerTest scans EICAR, which must be found, and a line of plain text,
// which must not.
func scannerTest(s virus.Scanner) func(ctx context.Context) ([]string, []error) {
	return func(ctx context.Context) ([]string, []error) {
		var info []string
		var errs []error
		res, err := s.Scan(ctx, strings.NewReader(eicar))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("scan of EICAR: %w", err))
		case !res.Infected():
			errs = append(errs, errors.New("scan of EICAR: not detected (are the signatures loaded?)"))
		default:
			info = append(info, "EICAR found as "+strings.Join(res.Names(), ","))
		}
		res, err = s.Scan(ctx, strings.NewReader("qscan lint: a few clean bytes\n"))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("scan of clean text: %w", err))
		case res.Infected():
			errs = append(errs, fmt.Errorf("scan of clean text: found %s", strings.Join(res.Names(), ",")))
		default:
			info = append(info, "clean text passed")
		}
		return info, errs
	}
}

// testMessage is a small message with body as its text.
func testMessage(body string) string {
	return "From: qscan lint <postmaster@localhost>\r\nTo: postmaster@localhost\r\nSubject: qscan lint\r\n" +
		"Message-ID: <qscan-lint@localhost>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n" + body + "\r\n"
}

// spamdTest pings spamd, then has it check GTUBE (spam, whatever the
// rules) and a short plain message (an answer is all it must give).
func spamdTest(cl *spamd.Client) func(ctx context.Context) ([]string, []error) {
	return func(ctx context.Context) ([]string, []error) {
		if err := cl.Ping(ctx); err != nil {
			return nil, []error{err} // nothing else can work
		}
		var info []string
		var errs []error
		if r, err := cl.Check(ctx, strings.NewReader(testMessage(gtube))); err != nil {
			errs = append(errs, fmt.Errorf("check of GTUBE: %w", err))
		} else if !r.IsSpam {
			errs = append(errs, fmt.Errorf("check of GTUBE: not spam (score %.1f)", r.Score))
		} else {
			info = append(info, fmt.Sprintf("GTUBE scored %.1f", r.Score))
		}
		if r, err := cl.Check(ctx, strings.NewReader(testMessage("Hello, this is qscan lint."))); err != nil {
			errs = append(errs, fmt.Errorf("check of a plain message: %w", err))
		} else {
			info = append(info, fmt.Sprintf("a plain message scored %.1f", r.Score))
		}
		return info, errs
	}
}

// rspamdTest has rspamd check GTUBE, which it rejects out of the box.
func rspamdTest(cl *rspamd.Client) func(ctx context.Context) ([]string, []error) {
	return func(ctx context.Context) ([]string, []error) {
		r, err := cl.Check(ctx, rspamd.Request{QueueID: "qscan-lint"}, strings.NewReader(testMessage(gtube)))
		if err != nil {
			return nil, []error{fmt.Errorf("check of GTUBE: %w", err)}
		}
		if !r.IsSpam {
			return nil, []error{fmt.Errorf("check of GTUBE: not spam (action %q, score %.1f)", r.Action, r.Score)}
		}
		return []string{fmt.Sprintf("GTUBE: %s, score %.1f", r.Action, r.Score)}, nil
	}
}

// dnsblTest looks up the list's test entry (RFC 5782: 127.0.0.2 for IP
// lists; "test" for domain lists). An answer, listed or not, shows the
// zone resolves; a time-out or a server failure is a problem.
func dnsblTest(l config.BLEntry, lookup lookupHost) func(ctx context.Context) ([]string, []error) {
	return func(ctx context.Context) ([]string, []error) {
		name := "2.0.0.127." + strings.TrimSuffix(l.Zone, ".")
		if l.Kind == "domain" {
			name = "test." + strings.TrimSuffix(l.Zone, ".")
		}
		addrs, err := lookup(ctx, name)
		var de *net.DNSError
		switch {
		case err == nil:
			return []string{fmt.Sprintf("test entry %s listed (%s)", name, strings.Join(addrs, ","))}, nil
		case errors.As(err, &de) && de.IsNotFound:
			return []string{fmt.Sprintf("zone answers (test entry %s not listed)", name)}, nil
		default:
			return nil, []error{fmt.Errorf("lookup %s: %w", name, err)}
		}
	}
}
