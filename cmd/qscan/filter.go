package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/smtpfilter"
	"github.com/qscan/qscan/pkg/spool"
)

// The SMTP content filter ([smtp] listen set): the spool is the incoming
// queue, checked mail is re-injected over SMTP, and `qscan run` serves
// the front end beside the pipeline.

// filterOptions makes the pipeline options of the filter layout: the
// spool as the incoming queue (its MTA pipeline.Spool) and re-injection
// instead of an outgoing queue.
func filterOptions(c *config.Config, o *pipeline.Options, log logrus.FieldLogger) error {
	_, ro, _, err := smtpOptions(c)
	if err != nil {
		return err
	}
	ro.Log = log
	client, err := reinject.New(ro)
	if err != nil {
		return err
	}
	o.Incoming, o.Outgoing, o.Kick = []string{c.SMTP.Spool}, "", nil
	// One generator for the front end and the pipeline: the IDs of mail
	// and of qscan's own reports in the spool never meet.
	o.MTA = pipeline.NewSpool(spool.Limits{}, spoolIDs)
	o.Reinject, o.ReinjectParallel, o.OnReject = client, c.SMTP.ReinjectConnections, c.SMTP.OnReject
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(c.SMTP.Reinject, "unix:"))
	o.DSN = reinject.DSNOptions{ReportingMTA: ro.Helo, RemoteMTA: host}
	return nil
}

// spoolIDs names the messages of the filter's spool: those the front end
// writes and those qscan writes itself (reports, DSNs).
var spoolIDs = sendmail.NewIDGen(time.Now, os.Getpid(), 0)

// frontEnd is the filter's listener for one generation.
type frontEnd struct {
	srv      *smtpfilter.Server
	pressure *spool.Pressure
	accept   func() error
}

// startFrontEnd removes what a crash left in the spool, then listens and
// serves: each queued message pokes the pipeline; new mail is answered 451
// while an engine is down or the spool is over its limits.
func startFrontEnd(c *config.Config, e *env, poke func()) (*frontEnd, error) {
	fo, _, pr, err := smtpOptions(c)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(c.SMTP.Spool)
	if err != nil {
		return nil, err
	}
	// No connection is open: whatever is not committed is a crash's.
	if gone, err := sp.Clean(time.Now()); err != nil {
		return nil, err
	} else if len(gone) > 0 {
		e.log.Warnf("smtp: removed %d files of uncommitted messages from the spool", len(gone))
	}
	pr.Spool = sp
	f := &frontEnd{pressure: pr}
	f.accept = func() error { return accepting(e, pr) }
	fo.Spool, fo.IDs = sp, spoolIDs
	fo.Accepting = f.accept
	fo.Queued = func(string, *spool.Envelope) { poke() }
	fo.Log = e.log
	srv, err := smtpfilter.New(fo)
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	f.srv = srv
	go func() {
		if err := srv.Serve(); err != nil {
			e.log.WithError(err).Error("smtp: listener stopped")
		}
	}()
	e.log.Infof("smtp: content filter listening on %s, re-injecting to %s", strings.Join(c.SMTP.Listen, ","), c.SMTP.Reinject)
	return f, nil
}

// accepting is nil while new mail may come in: every engine up and the
// spool within its limits.
func accepting(e *env, pr *spool.Pressure) error {
	var down []string
	if e.status != nil {
		for name, st := range e.status.Snapshot().Engines {
			if !st.Up {
				down = append(down, name)
			}
		}
	}
	if sp := e.spam.Load(); sp != nil {
		down = append(down, sp.Down()...)
	}
	if len(down) > 0 {
		sort.Strings(down)
		return fmt.Errorf("engine %s down", strings.Join(down, ", "))
	}
	return pr.Check()
}

// report writes the back-pressure state and the spool's depth into the
// status file and the metrics, every few seconds until ctx ends.
func (f *frontEnd) report(ctx context.Context, e *env) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if sp := e.spam.Load(); sp != nil && len(sp.Down()) > 0 {
			// Nothing else calls an engine while the filter refuses
			// mail and the spool is empty.
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			sp.Probe(pctx)
			cancel()
		}
		err := f.accept()
		n, _, _ := f.pressure.Spool.Usage()
		why := ""
		if err != nil {
			why = err.Error()
		}
		if e.status != nil {
			e.status.SetFilter(why, n)
		}
		if e.metrics != nil {
			e.metrics.Filter(err == nil, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the front end: connections get up to 10 s to finish, then
// are closed (a message not yet answered 250 is sent again by the MTA).
func (f *frontEnd) stop(log logrus.FieldLogger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		f.srv.Close()
	}
	log.Info("smtp: content filter stopped")
}

// spoolStats is the metrics' queue depth and oldest message of the spool.
func spoolStats(dir string) (int, time.Duration) {
	es, err := spool.Spool{Dir: dir}.List()
	if err != nil || len(es) == 0 {
		return 0, 0
	}
	return len(es), time.Since(es[0].ModTime)
}

// filterReleaser is quarantine release's Publish for the filter layout: the
// quarantined message re-injected (pipeline.SpoolReleaser).
func filterReleaser(c *config.Config) (func(ctl, body []byte, to []string, header, value string) (string, []string, error), func(), error) {
	_, ro, _, err := smtpOptions(c)
	if err != nil {
		return nil, nil, err
	}
	client, err := reinject.New(ro)
	if err != nil {
		return nil, nil, err
	}
	r := pipeline.SpoolReleaser{Send: client, IDs: sendmail.NewIDGen(time.Now, os.Getpid(), 2400)}
	return r.Release, func() { client.Close() }, nil
}

// digestSender is `qscan digest`'s way out in the filter layout: each
// digest re-injected from the null sender; the ID returned names it in
// the output only.
func digestSender(c *config.Config) (func(raw []byte, to []string) (string, error), func(), error) {
	_, ro, _, err := smtpOptions(c)
	if err != nil {
		return nil, nil, err
	}
	client, err := reinject.New(ro)
	if err != nil {
		return nil, nil, err
	}
	ids := sendmail.NewIDGen(time.Now, os.Getpid(), 2700)
	send := func(raw []byte, to []string) (string, error) {
		env := &spool.Envelope{Received: time.Now()}
		for _, a := range to {
			env.Recipients = append(env.Recipients, spool.Recipient{Addr: a})
		}
		res, err := client.Send(context.Background(), reinject.Message{Env: env, Data: bytes.NewReader(raw)})
		if err != nil {
			return "", err
		}
		if len(res.Accepted) == 0 {
			return "", errors.New("refused downstream")
		}
		return ids.Next(), nil
	}
	return send, func() { client.Close() }, nil
}
