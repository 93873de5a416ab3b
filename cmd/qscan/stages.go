package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/content"
	"github.com/qscan/qscan/pkg/explode"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/pool"
	"github.com/qscan/qscan/pkg/rebuild"
	"github.com/qscan/qscan/pkg/spamcheck"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
	"github.com/qscan/qscan/pkg/virus/clamd"
	"github.com/qscan/qscan/pkg/virus/command"
	"github.com/qscan/qscan/pkg/viruscheck"
	"github.com/qscan/qscan/pkg/web"
)

// buildStages creates the checks the configuration asks for, in pipeline
// order. log may be nil (lint).
func buildStages(c *config.Config, log *logrus.Logger) ([]pipeline.Stage, error) {
	return buildStagesWatched(c, &virus.Watch{Log: quietIfNil(log)}, nil, nil)
}

func quietIfNil(l *logrus.Logger) *logrus.Logger {
	if l == nil {
		l = logrus.New()
		l.SetOutput(io.Discard)
	}
	return l
}

// buildStagesWatched is buildStages with the engines' state reported to w
// and the web desk's lists (nil: none) consulted by the spam check; the
// spam stage, when there is one, goes to spamOut (unless nil).
func buildStagesWatched(c *config.Config, w *virus.Watch, lists *web.Lists, spamOut **spamcheck.Stage) ([]pipeline.Stage, error) {
	cs, err := contentStage(c)
	if err != nil {
		return nil, err
	}
	lim := explodeLimits(c.Limits)
	sevenZip, _ := c.Archives.SevenZipPath() // a missing one: off, and lint warns
	lim.SevenZip = explode.SevenZip{Path: sevenZip, Timeout: c.Archives.SevenZipTimeout.D()}
	stages := []pipeline.Stage{explode.Stage{Limits: lim}, cs}
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
		s, err := spamStage(c.Spam, w.Log, lists)
		if err != nil {
			return nil, err
		}
		if spamOut != nil {
			*spamOut = s
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
		MaxMIMEReadings: l.MaxMIMEReadings,
		UnpackOLE:       l.UnpackMicrosoftDocuments,
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
		HTML:          content.HTMLOptions{IFrame: cc.HTML.IFrame.Plain, Form: cc.HTML.Form.Plain, Script: cc.HTML.Script.Plain, ObjectCodebase: cc.HTML.ObjectCodebase.Plain},
	}
	dc, err := newDangerous(c)
	if err != nil {
		return nil, err
	}
	opts.HTML.For = dc.options
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
	cl := &rebuild.Cleaner{Text: n.ReplacementText, Log: log, PhishingHeader: message.QScanHeader(c.Headers.OrgName, "-Phishing")}
	if dc, err := newDangerous(c); err == nil { // its error is the content stage's, reported there
		cl.Safe = dc.options
	}
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
	var batch []viruscheck.Batch // command-line scanners: once per message
	for _, name := range v.Scanners {
		e, err := virusEngine(v, name)
		if err != nil {
			return nil, err
		}
		if pl, ok := e.(*virus.Pooled); ok && w.Log != nil {
			pl.OnChange(poolLogger(w.Log, "virus engine "+name))
		}
		if e = w.Wrap(name, e); isBatch(e) {
			batch = append(batch, e.(virus.BatchScanner))
		} else {
			engines = append(engines, e)
		}
	}
	var stream viruscheck.Scanner
	if len(engines) > 0 {
		stream = virus.NewMulti(engines...)
	}
	silent, nonForging := compileAll(v.SilentViruses), compileAll(v.NonForgingViruses)
	return viruscheck.New(stream, viruscheck.Options{Batch: batch,
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

func isBatch(e virus.Scanner) bool {
	_, ok := e.(virus.BatchScanner)
	return ok
}

// virusEngine builds the engine of [virus] called name (also for `qscan
// lint`, which tests each one).
func virusEngine(v config.Virus, name string) (virus.Scanner, error) {
	var e virus.Scanner
	var err error
	switch name {
	case "clamd":
		if len(v.Clamd.Servers) > 0 {
			e, err = clamdPool(v.Clamd)
			break
		}
		e, err = clamd.New(clamdOptions(v.Clamd, v.Clamd.Socket, v.Clamd.Address))
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

func clamdOptions(c config.Clamd, socket, address string) clamd.Options {
	return clamd.Options{Socket: socket, Address: address, Timeout: c.Timeout.D(),
		MaxConnections: c.MaxConnections, MaxStream: int64(c.MaxStream), Sessions: c.Sessions}
}

// clamdPool is [virus.clamd] servers: one client per server, pooled.
func clamdPool(c config.Clamd) (*virus.Pooled, error) {
	var ms []pool.Member[virus.Scanner]
	for _, s := range c.Servers {
		socket, address := serverAddr(s)
		cl, err := clamd.New(clamdOptions(c, socket, address))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		ms = append(ms, pool.Member[virus.Scanner]{Name: cl.String(), Server: cl})
	}
	probe := func(ctx context.Context, s virus.Scanner) error { return s.(*clamd.Client).Ping(ctx) }
	return virus.NewPooled(ms, probe, nil), nil
}

// serverAddr splits an entry of a servers list into a unix socket path or
// a TCP address.
func serverAddr(s string) (socket, address string) {
	if strings.HasPrefix(s, "/") {
		return s, ""
	}
	return "", s
}

// poolLogger logs each server of an engine's pool taken out or put back.
func poolLogger(log logrus.FieldLogger, engine string) func(name string, up bool, err error) {
	return func(name string, up bool, err error) {
		if up {
			log.WithField("server", name).Infof("%s: server %s answers again, back in the pool", engine, name)
			return
		}
		log.WithField("server", name).WithError(err).Warnf("%s: server %s failed, taken out of the pool (its scans go to the others; probed until it answers)", engine, name)
	}
}
