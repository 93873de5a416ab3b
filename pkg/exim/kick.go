package exim

import (
	"context"
	"os/exec"
)

// MaxKickIDs is how many message IDs one kick names.
const MaxKickIDs = 30

// Kicker runs the Exim of a spool on some of its messages (exim -M ID...),
// so that they are delivered now rather than at the next queue run.
// Always with an argument vector, never a shell.
type Kicker struct {
	Exim string   // the exim binary, e.g. /usr/sbin/exim4
	Args []string // before -M: e.g. "-C", "/etc/exim4/exim-out.conf"
}

// Command is the run of Exim that delivers ids. exim -M delivers in the
// foreground and returns when the attempts are done.
func (k Kicker) Command(ctx context.Context, ids ...string) *exec.Cmd {
	args := append(append([]string{}, k.Args...), "-M")
	args = append(args, ids...)
	return exec.CommandContext(ctx, k.Exim, args...)
}

// Kick runs Exim on ids and returns what it printed.
func (k Kicker) Kick(ctx context.Context, ids ...string) ([]byte, error) {
	return k.Command(ctx, ids...).CombinedOutput()
}

// QueueRun is one queue run of the spool in the foreground (exim -qf
// would force frozen and not-yet-due messages too; -q keeps the retry
// rules).
func (k Kicker) QueueRun(ctx context.Context) *exec.Cmd {
	args := append(append([]string{}, k.Args...), "-q")
	return exec.CommandContext(ctx, k.Exim, args...)
}
