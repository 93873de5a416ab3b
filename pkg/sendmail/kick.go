package sendmail

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// MaxKickIDs is how many queue IDs one kick names.
const MaxKickIDs = 30

// kickProbeID matches no queue ID (sendmail's IDs have no '-'): the probe
// runs a queue run that finds nothing to deliver.
const kickProbeID = "qscan-lint-probe"

// Kicker runs the sendmail of a queue directory on some of its messages
// (-qI<ID>), so that they are delivered now rather than at the next queue
// run: after a batch, after a release from the quarantine. Always with an
// argument vector, never a shell.
type Kicker struct {
	Sendmail string   // the sendmail binary
	Args     []string // extra arguments before -OQueueDirectory and -qI
}

// Command is the run of sendmail that delivers ids from the queue dir.
func (k Kicker) Command(ctx context.Context, dir string, ids ...string) *exec.Cmd {
	args := append(append([]string{}, k.Args...), "-OQueueDirectory="+dir)
	for _, id := range ids {
		args = append(args, "-qI"+id)
	}
	return exec.CommandContext(ctx, k.Sendmail, args...)
}

// Kick runs sendmail on ids and returns what it printed.
func (k Kicker) Kick(ctx context.Context, dir string, ids ...string) ([]byte, error) {
	return k.Command(ctx, dir, ids...).CombinedOutput()
}

// Probe runs a kick of the queue dir on an ID that matches no message, as
// the user cred names (nil: as this process; as names the user in the
// error), and explains a refusal. Debian's sendmail.cf has restrictqrun
// in PrivacyOptions: sendmail then lets only root and the owner of the
// queue dir run the queue, and every kick by another user fails with
// exit 77.
func (k Kicker) Probe(ctx context.Context, dir string, cred *syscall.Credential, as string) error {
	cmd := k.Command(ctx, dir, kickProbeID)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if as == "" {
		as = "this user"
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(string(bytes.TrimSpace(out))), " ")
	err = fmt.Errorf("%s %s as %s: %w: %s", k.Sendmail, strings.Join(cmd.Args[1:], " "), as, err, msg)
	if strings.Contains(msg, "permission to process the queue") {
		return fmt.Errorf("%w\n  sendmail lets only root and the owner of %s run its queue (restrictqrun in PrivacyOptions "+
			"of its sendmail.cf, Debian's default): remove restrictqrun from confPRIVACY_FLAGS in /etc/mail/sendmail.mc "+
			"and rebuild sendmail.cf (sendmailconfig), or set kick = false and let the outgoing queue runner deliver", err, dir)
	}
	return err
}
