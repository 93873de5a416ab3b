package main

import (
	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/quarantine"
)

// buildStages creates the checks the configuration asks for, in pipeline
// order. log may be nil (lint).
func buildStages(c *config.Config, log *logrus.Logger) ([]pipeline.Stage, error) {
	return nil, nil
}

// wholeQuarantine adapts pkg/quarantine to the pipeline's interface.
type wholeQuarantine struct{ q *quarantine.Quarantine }

func (w *wholeQuarantine) StoreWhole(m pipeline.WholeMessage) (string, error) {
	return w.q.Store(quarantine.Item{
		Entry: quarantine.Entry{
			QueueID: m.ID, Time: m.Time, Sender: m.Envelope.Sender, Recipients: m.Envelope.Recipients,
			Reason: m.Reason, Whole: true, ClientIP: ipString(m.Envelope),
		},
		Qf: m.Qf, Df: m.Df, Header: m.Header,
	})
}

func ipString(e message.Envelope) string {
	if !e.ClientIP.IsValid() {
		return ""
	}
	return e.ClientIP.String()
}
