package main

import (
	"fmt"
	"io"
	"io/fs"
	"regexp"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/content"
	"github.com/qscan/qscan/pkg/explode"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/rebuild"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
	"github.com/qscan/qscan/pkg/virus/clamd"
	"github.com/qscan/qscan/pkg/virus/command"
	"github.com/qscan/qscan/pkg/viruscheck"
)

// buildStages creates the checks the configuration asks for, in pipeline
// order. log may be nil (lint).
func buildStages(c *config.Config, log *logrus.Logger) ([]pipeline.Stage, error) {
	return buildStagesWatched(c, &virus.Watch{Log: quietIfNil(log)})
}

func quietIfNil(l *logrus.Logger) *logrus.Logger {
	if l == nil {
		l = logrus.New()
		l.SetOutput(io.Discard)
	}
	return l
}

// buildStagesWatched is buildStages with the engines' state reported to w.
func buildStagesWatched(c *config.Config, w *virus.Watch) ([]pipeline.Stage, error) {
	cs, err := contentStage(c)
	if err != nil {
		return nil, err
	}
	stages := []pipeline.Stage{explode.Stage{Limits: explodeLimits(c.Limits)}, cs}
	if c.Queue.ReceivedIPHeader > 0 {
		stages = append([]pipeline.Stage{receivedIPStage{c.Queue.ReceivedIPHeader}}, stages...)
	}
	if a := archiveStage(c.Quarantine.ArchiveMail.Setting); a != nil {
		stages = append([]pipeline.Stage{a}, stages...) // the message as it arrived
	}
	if len(c.Virus.Scanners) > 0 {
		s, err := virusStage(c.Virus, w)
		if err != nil {
			return nil, err
		}
		stages = append(stages, pipeline.Gate(s, policy.Yes(c.Virus.Scan.Setting)))
	}
	if len(c.Spam.Engines) > 0 {
		s, err := spamStage(c.Spam, w.Log)
		if err != nil {
			return nil, err
		}
		stages = append(stages, pipeline.Gate(s, policy.Yes(c.Spam.Check.Setting)))
	}
	return stages, nil
}

func explodeLimits(l config.Limits) explode.Limits {
	return explode.Limits{
		MaxArchiveDepth: l.MaxArchiveDepth, MaxArchiveMembers: l.MaxArchiveMembers, MaxExpandedBytes: int64(l.MaxExpandedBytes),
		MaxRatio: int64(l.MaxRatio), RatioMinBytes: int64(l.RatioMinBytes), MaxMIMEParts: l.MaxMIMEParts, MaxMIMEDepth: l.MaxMIMEDepth,
		MaxHeaderBytes: int64(l.MaxHeaderBytes), MaxPartBytes: int64(l.MaxPartBytes), AllowPasswordArchives: l.AllowPasswordArchives,
		MaxHeaderParams: l.MaxHeaderParams, AllowUnopenedArchives: l.AllowUnopenedArchives, MaxParts: l.MaxParts,
		UnpackOLE: l.UnpackMicrosoftDocuments,
	}
}

// contentStage maps [content] to the content stage, which loads every
// rule file the options can name now.
func contentStage(c *config.Config) (pipeline.Stage, error) {
	cc := c.Content
	off := func(n config.Size) int64 {
		if n == 0 {
			return -1
		}
		return int64(n)
	}
	qp := cc.QPMaxBlankLine
	if qp == 0 {
		qp = -1
	}
	opts := content.Options{
		MaxMessageSize: int64(cc.MaxMessageSize), MaxAttachmentSize: off(cc.MaxAttachmentSize), MinAttachmentSize: off(cc.MinAttachmentSize),
		BlockPartial: cc.BlockPartial, BlockExternalBody: cc.BlockExternalBody, BlockEncrypted: cc.BlockEncrypted, QPMaxBlankLine: qp,
		RenamePattern: cc.RenamePattern,
		HTML:          content.HTMLOptions{IFrame: cc.HTML.IFrame, Form: cc.HTML.Form, Script: cc.HTML.Script, ObjectCodebase: cc.HTML.ObjectCodebase},
	}
	rules, err := fs.Sub(etc.Rules, "rules")
	if err != nil {
		return nil, err
	}
	return content.NewRuleFiles(content.RuleFileOptions{Options: opts,
		Filename: cc.FilenameRules.Setting, Filetype: cc.FiletypeRules.Setting,
		ArchiveFilename: cc.ArchiveFilenameRules.Setting, ArchiveFiletype: cc.ArchiveFiletypeRules.Setting,
		Paths: c.RuleFiles, Shipped: rules})
}

// checkerOptions gives the pipeline its per-message settings, its spam
// headers and its cleaner.
func checkerOptions(c *config.Config, log logrus.FieldLogger, n *notify.Notifier) pipeline.CheckerOptions {
	cl := &rebuild.Cleaner{Text: n.ReplacementText, Log: log}
	if c.Notify.InlineWarning {
		cl.Inline = n.InlineWarning
	}
	pm := policy.NewPerMessage(policy.Options{
		DeliverCleaned: c.Virus.DeliverCleaned.Setting, RequiredScore: c.Spam.RequiredScore.Setting, HighScore: c.Spam.HighScore.Setting,
		SpamActions: c.Spam.SpamActions.Setting, HighSpamActions: c.Spam.HighSpamActions.Setting, HamActions: c.Spam.HamActions.Setting,
		Actions: spamActionLists(c.Spam), Silent: compileAll(c.Virus.SilentViruses), LocalDomains: c.Virus.LocalDomains,
		NonForging: compileAll(c.Virus.NonForgingViruses), DeliverSilent: c.Virus.DeliverSilent.Setting,
		SpamVirus:    policy.SpamVirusMatcher(c.Virus.SpamVirusNames),
		ArchiveTo:    archiveAddrs(c.Quarantine.ArchiveMail.Setting),
		TNEF:         c.Content.TNEFContents.Setting,
		ReplaceWhole: c.Content.WholeMessage == "replace", CleanValue: c.Headers.Clean,
	})
	return pipeline.CheckerOptions{SpamHeaders: spamHeaders(c), Log: log, Policy: pm.Settings, Cleaner: cl}
}

func compileAll(res []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, s := range res {
		out = append(out, regexp.MustCompile(s)) // validated by config
	}
	return out
}

// virusStage builds the engines of [virus] and the stage over them.
func virusStage(v config.Virus, w *virus.Watch) (*viruscheck.Stage, error) {
	var engines []virus.Scanner
	for _, name := range v.Scanners {
		e, err := virusEngine(v, name)
		if err != nil {
			return nil, err
		}
		engines = append(engines, w.Wrap(name, e))
	}
	silent, nonForging := compileAll(v.SilentViruses), compileAll(v.NonForgingViruses)
	return viruscheck.New(virus.NewMulti(engines...), viruscheck.Options{
		Concurrency: v.Concurrency, Heuristics: v.Heuristics, DeliverUnscannable: v.DeliverUnscannable,
		ScanTextBodies: v.ScanTextBodies,
		Silent: func(name string) bool {
			for _, re := range nonForging {
				if re.MatchString(name) {
					return false
				}
			}
			for _, re := range silent {
				if re.MatchString(name) {
					return true
				}
			}
			return false
		},
	}), nil
}

// virusEngine builds the engine of [virus] called name (also for `qscan
// lint`, which tests each one).
func virusEngine(v config.Virus, name string) (virus.Scanner, error) {
	var e virus.Scanner
	var err error
	switch name {
	case "clamd":
		e, err = clamd.New(clamd.Options{Socket: v.Clamd.Socket, Address: v.Clamd.Address, Timeout: v.Clamd.Timeout.D(),
			MaxConnections: v.Clamd.MaxConnections, MaxStream: int64(v.Clamd.MaxStream), Sessions: v.Clamd.Sessions})
	case "builtin":
		e, err = builtin.New(builtin.Options{Signatures: v.Builtin.Signatures})
	case "command":
		e, err = command.New(command.Options{Preset: v.Command.Preset, Path: v.Command.Path, Args: v.Command.Args, Timeout: v.Command.Timeout.D()})
	default:
		err = fmt.Errorf("unknown scanner")
	}
	if err != nil {
		return nil, fmt.Errorf("virus scanner %s: %w", name, err)
	}
	return e, nil
}
