package main

import (
	"fmt"
	"regexp"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
	"github.com/qscan/qscan/pkg/virus/clamd"
	"github.com/qscan/qscan/pkg/virus/command"
	vstage "github.com/qscan/qscan/pkg/virus/stage"
)

// buildStages creates the checks the configuration asks for, in pipeline
// order. log may be nil (lint).
func buildStages(c *config.Config, log *logrus.Logger) ([]pipeline.Stage, error) {
	var stages []pipeline.Stage
	if len(c.Virus.Scanners) > 0 {
		s, err := virusStage(c.Virus)
		if err != nil {
			return nil, err
		}
		stages = append(stages, s)
	}
	return stages, nil
}

// virusStage builds the engines of [virus] and the stage over them.
func virusStage(v config.Virus) (*vstage.Stage, error) {
	var engines []virus.Scanner
	for _, name := range v.Scanners {
		var e virus.Scanner
		var err error
		switch name {
		case "clamd":
			e, err = clamd.New(clamd.Options{Socket: v.Clamd.Socket, Address: v.Clamd.Address, Timeout: v.Clamd.Timeout.D(),
				MaxConnections: v.Clamd.MaxConnections, MaxStream: int64(v.Clamd.MaxStream)})
		case "builtin":
			e, err = builtin.New(builtin.Options{Signatures: v.Builtin.Signatures})
		case "command":
			e, err = command.New(command.Options{Preset: v.Command.Preset, Path: v.Command.Path, Args: v.Command.Args, Timeout: v.Command.Timeout.D()})
		}
		if err != nil {
			return nil, fmt.Errorf("virus scanner %s: %w", name, err)
		}
		engines = append(engines, e)
	}
	var silent []*regexp.Regexp
	for _, s := range v.SilentViruses {
		silent = append(silent, regexp.MustCompile(s)) // validated by config
	}
	return vstage.New(virus.NewMulti(engines...), vstage.Options{
		Concurrency: v.Concurrency, Heuristics: v.Heuristics, DeliverUnscannable: v.DeliverUnscannable,
		Silent: func(name string) bool {
			for _, re := range silent {
				if re.MatchString(name) {
					return true
				}
			}
			return false
		},
	}), nil
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
