package main

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/sendmail"
)

// kickProbeTimeout bounds the probe; sendmail forks the queue run and
// returns at once.
const kickProbeTimeout = 30 * time.Second

// checkKick runs the kick as the daemon would run it ([queue] sendmail,
// sendmail_args, -OQueueDirectory=outgoing, -qI) on an ID that matches no
// message, as the user the daemon runs as (the owner of the work dir when
// lint runs as root): see sendmail.Kicker.Probe.
func checkKick(c *config.Config) error {
	q := c.Queue
	if q.MTA != "" && q.MTA != "sendmail" {
		// exim -M and postkick have no harmless probe; their refusals
		// are logged by the daemon once per change.
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), kickProbeTimeout)
	defer cancel()
	o, err := health.WorkDirOwner(q.WorkDir)
	if err != nil {
		return fmt.Errorf("queue.kick: %w", err)
	}
	var cred *syscall.Credential
	as := ""
	if o != nil {
		cred, as = o.Credential(), "user "+o.Name
	}
	if err := kicker(q).Probe(ctx, q.Outgoing, cred, as); err != nil {
		return fmt.Errorf("queue.kick: %w", err)
	}
	return nil
}

// kicker maps [queue] sendmail and sendmail_args.
func kicker(q config.Queue) *sendmail.Kicker {
	return &sendmail.Kicker{Sendmail: q.Sendmail, Args: q.SendmailArgs}
}
