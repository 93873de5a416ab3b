package pipeline

import (
	"context"

	"github.com/qscan/qscan/pkg/message"
)

// Gate runs s only for the messages on says yes to (a per-message option
// such as "[spam] check", often from a ruleset).
func Gate(s Stage, on func(m *message.Message) bool) Stage { return gated{s, on} }

type gated struct {
	Stage
	on func(m *message.Message) bool
}

func (g gated) Check(ctx context.Context, m *message.Message) error {
	if !g.on(m) {
		return nil
	}
	return g.Stage.Check(ctx, m)
}
