package content

import (
	"context"

	"github.com/qscan/qscan/pkg/message"
)

// Stage is the pipeline stage running a Checker.
type Stage struct {
	C *Checker
}

// Name is the stage's name in logs and metrics.
func (Stage) Name() string { return "content" }

// Check adds the content reports; it cannot fail.
func (s Stage) Check(_ context.Context, m *message.Message) error {
	m.Reports = append(m.Reports, s.C.Check(m)...)
	return nil
}
