package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
)

// scanResult is what `qscan scan` prints for one file.
type scanResult struct {
	File    string              `json:"file"`
	Verdict message.Verdict     `json:"verdict"`
	Reason  string              `json:"reason,omitempty"`
	Reports []scanReport        `json:"reports"`
	Spam    *message.SpamResult `json:"spam,omitempty"`
	Error   string              `json:"error,omitempty"`
}

// scanReport is a report with the path of the part it concerns.
type scanReport struct {
	message.Report
	Path string `json:"path,omitempty"` // e.g. "2/outer.zip/inner.zip/invoice.pdf.exe"
}

// cmdScan runs the checks on .eml files without queues.
func cmdScan(args []string) int {
	fs := newFlagSet("scan")
	cfgPath := fs.String("c", "", "configuration file")
	asJSON := fs.Bool("json", false, "print results as JSON")
	out := fs.String("o", "", "write the message as it would be delivered here (one input file only)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to this file (for performance work)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "qscan scan: name the message files to check (see qscan scan --help)")
		return exitUsage
	}
	if *out != "" && fs.NArg() != 1 {
		fmt.Fprintf(os.Stderr, "qscan scan: -o writes one message: give one file with it, not %d\n", fs.NArg())
		return exitUsage
	}
	c, log, code := configAndLog(*cfgPath)
	if code != exitOK {
		return code
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qscan:", err)
			return scanError
		}
		defer stop()
	}
	chk, err := scanChecker(c, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan:", err)
		return exitConfig
	}
	code = scanClean
	for _, file := range fs.Args() {
		res, write := scanFile(chk, file)
		code = worseScanExit(code, scanExit(res.Verdict))
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		} else {
			printResult(res)
		}
		if *out != "" {
			if err := write(*out); err != nil {
				fmt.Fprintf(os.Stderr, "qscan: -o %s: %v\n", *out, err)
				return scanError
			}
		}
	}
	return code
}

// scanChecker builds the checks and the decisions of the configuration,
// as `qscan run` has them.
func scanChecker(c *config.Config, log *logrus.Logger) (*pipeline.Checker, error) {
	stages, err := buildStages(c, log)
	if err != nil {
		return nil, err
	}
	opts, err := pipelineOptions(c, log)
	if err != nil {
		return nil, err
	}
	return pipeline.NewChecker(stages, opts), nil
}

// scanFile checks one file (pipeline.Checker.CheckFile); the second
// result writes the message as qscan would deliver it.
func scanFile(chk *pipeline.Checker, file string) (scanResult, func(path string) error) {
	res := scanResult{File: file}
	raw, err := os.ReadFile(file)
	if err != nil {
		res.Verdict, res.Error = message.VerdictError, err.Error()
		return res, func(string) error { return err }
	}
	f, err := chk.CheckFile(context.Background(), raw, time.Now())
	if err != nil {
		res.Verdict, res.Error = message.VerdictError, err.Error()
		return res, f.WriteDelivered
	}
	m, v := f.Message, f.Result
	res.Verdict, res.Reason, res.Spam = v.Verdict, v.Reason, m.Spam
	res.Reports = []scanReport{}
	for _, r := range m.Reports {
		res.Reports = append(res.Reports, scanReport{Report: r, Path: m.PartPath(r.Part)})
	}
	return res, f.WriteDelivered
}

func printResult(r scanResult) {
	fmt.Printf("%s: %s\n", r.File, r.Verdict)
	if r.Error != "" {
		fmt.Printf("  error: %s\n", r.Error)
	}
	for _, rep := range r.Reports {
		where := ""
		if rep.Path != "" {
			where = " [in " + rep.Path + "]"
		}
		fmt.Printf("  %s: %s%s\n", rep.Kind, rep.Text, where)
	}
	if r.Spam != nil {
		fmt.Printf("  spam: %s, score %.1f (required %.1f)\n", r.Spam.Level, r.Spam.Score, r.Spam.Required)
	}
}
