package explode

import (
	"context"
	"fmt"

	"github.com/qscan/qscan/pkg/message"
)

// Stage is the pipeline stage that fills Message.Parts.
type Stage struct {
	Limits Limits
}

// Name is the stage's name in logs and metrics.
func (Stage) Name() string { return "explode" }

// Check explodes the message under the limits; problems with the message
// become reports, only internal failures an error.
func (s Stage) Check(ctx context.Context, m *message.Message) error {
	lim := s.Limits.normalize()
	if int64(len(m.Header)) > lim.MaxHeaderBytes {
		// Decided without copying the message.
		m.AddReport(message.Report{Kind: message.KindContent, Part: -1, Engine: engine, Name: "mime-limit",
			Text:   fmt.Sprintf("%s: %d bytes, limit %d", TextHeaderSize, len(m.Header), lim.MaxHeaderBytes),
			Action: message.ActionQuarantine})
		return nil
	}
	res, err := ExplodeContext(ctx, m.Raw(), s.Limits)
	if err != nil {
		return fmt.Errorf("explode %s: %w", m.ID, err)
	}
	m.Parts = res.Parts
	m.Reports = append(m.Reports, res.Reports...)
	return nil
}
