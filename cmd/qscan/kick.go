package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/config"
)

// kickProbeID matches no queue ID (sendmail's IDs have no '-'): the probe
// runs a queue run that finds nothing to deliver.
const kickProbeID = "qscan-lint-probe"

// kickProbeTimeout bounds the probe; sendmail forks the queue run and
// returns at once.
const kickProbeTimeout = 30 * time.Second

// checkKick runs the kick as the daemon would run it ([queue] sendmail,
// sendmail_args, -OQueueDirectory=outgoing, -qI) on an ID that matches no
// message, as the user the daemon runs as (the owner of the work dir when
// lint runs as root), and explains a refusal. Debian's sendmail.cf has
// restrictqrun in PrivacyOptions: sendmail then lets only root and the
// owner of the queue dir run the queue, and every kick of a daemon running
// as user qscan fails with exit 77.
func checkKick(c *config.Config) error {
	q := c.Queue
	args := append(append([]string{}, q.SendmailArgs...), "-OQueueDirectory="+q.Outgoing, "-qI"+kickProbeID)
	ctx, cancel := context.WithTimeout(context.Background(), kickProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, q.Sendmail, args...)
	as := "this user"
	o, err := workDirOwner(q.WorkDir)
	if err != nil {
		return fmt.Errorf("queue.kick: %w", err)
	}
	if o != nil {
		as = "user " + o.name
		cred := &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}
		for _, g := range o.groups {
			cred.Groups = append(cred.Groups, uint32(g))
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(string(bytes.TrimSpace(out))), " ")
	err = fmt.Errorf("queue.kick: %s %s as %s: %w: %s", q.Sendmail, strings.Join(args, " "), as, err, msg)
	if strings.Contains(msg, "permission to process the queue") {
		return fmt.Errorf("%w\n  sendmail lets only root and the owner of %s run its queue (restrictqrun in PrivacyOptions "+
			"of its sendmail.cf, Debian's default): remove restrictqrun from confPRIVACY_FLAGS in /etc/mail/sendmail.mc "+
			"and rebuild sendmail.cf (sendmailconfig), or set kick = false and let the outgoing queue runner deliver", err, q.Outgoing)
	}
	return err
}
