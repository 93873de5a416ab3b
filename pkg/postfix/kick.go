package postfix

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// Kicker wakes the queue manager of a Postfix instance so that it scans
// the incoming queue now, as cleanup does after it queued a message:
// `postkick -c CONFIG public qmgr I`. (postqueue -i ID requests delivery
// of a deferred message only: it moves deferred/ID into incoming, which a
// file qscan wrote into incoming is not.) Always an argument vector.
type Kicker struct {
	Postkick  string   // the postkick binary, e.g. /usr/sbin/postkick
	ConfigDir string   // config_directory; "" for Postfix's default
	Env       []string // added to the environment (e.g. LD_LIBRARY_PATH for an unpacked Postfix)
}

// Command is the run of postkick that asks qmgr to scan incoming.
func (k Kicker) Command(ctx context.Context) *exec.Cmd {
	var args []string
	if k.ConfigDir != "" {
		args = append(args, "-c", k.ConfigDir)
	}
	args = append(args, "public", "qmgr", "I")
	cmd := exec.CommandContext(ctx, k.Postkick, args...)
	if len(k.Env) > 0 {
		cmd.Env = append(os.Environ(), k.Env...)
	}
	return cmd
}

// Kick runs postkick and returns what it printed. postkick sends its
// request, then a NUL byte, and waits for the queue manager to hang up; a
// queue manager that takes the request and hangs up before the NUL kills
// postkick with SIGPIPE (Postfix's daemons ignore SIGPIPE, postkick does
// not). That is a delivered request, not an error.
func (k Kicker) Kick(ctx context.Context) ([]byte, error) {
	out, err := k.Command(ctx).CombinedOutput()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGPIPE {
			return out, nil
		}
	}
	return out, err
}
