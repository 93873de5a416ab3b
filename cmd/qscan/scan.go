package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
)

// scanResult is what `qscan scan` prints for one file.
type scanResult struct {
	File    string              `json:"file"`
	Verdict string              `json:"verdict"`
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
	out := fs.String("o", "", "write the rebuilt message here (one input file only)")
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
	stages, err := buildStages(c, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan:", err)
		return exitConfig
	}
	opts, err := pipelineOptions(c, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan:", err)
		return exitConfig
	}
	chk := pipeline.NewChecker(stages, opts)
	code = scanClean
	for _, file := range fs.Args() {
		res, rebuilt := scanFile(chk, file)
		code = worseScanExit(code, scanExit(res.Verdict))
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		} else {
			printResult(res)
		}
		if *out != "" && rebuilt != nil {
			if err := os.WriteFile(*out, bytes.Join(rebuilt, nil), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "qscan:", err)
				return scanError
			}
		}
	}
	return code
}

// scanFile checks one file; the second result is the message as qscan
// would deliver it, in pieces (nil when it would be kept back).
func scanFile(chk *pipeline.Checker, file string) (scanResult, [][]byte) {
	res := scanResult{File: file}
	raw, err := os.ReadFile(file)
	if err != nil {
		res.Verdict, res.Error = "error", err.Error()
		return res, nil
	}
	header, body := splitMessage(raw)
	m := &message.Message{ID: "scan", Header: header, Body: body, Size: int64(len(raw)), Received: time.Now()}
	if len(header) > 1<<20 {
		// Too large to be a real header: the checks will say so; take
		// no envelope from it.
	} else if h, err := mail.ReadMessage(bytes.NewReader(append(header, '\n'))); err == nil {
		if a, err := mail.ParseAddress(h.Header.Get("From")); err == nil {
			m.Envelope.Sender = a.Address
		}
		if as, err := h.Header.AddressList("To"); err == nil {
			for _, a := range as {
				m.Envelope.Recipients = append(m.Envelope.Recipients, a.Address)
			}
		}
	}
	v, err := chk.Check(context.Background(), m)
	if err != nil {
		res.Verdict, res.Error = "error", err.Error()
		return res, nil
	}
	res.Verdict, res.Reason, res.Spam = v.Verdict, v.Reason, m.Spam
	res.Reports = []scanReport{}
	for _, r := range m.Reports {
		sr := scanReport{Report: r}
		sr.Path = displayPath(m, r.Part)
		res.Reports = append(res.Reports, sr)
	}
	if v.Header == nil {
		return res, nil
	}
	return res, [][]byte{v.Header, []byte("\n"), v.Body}
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

// displayPath names a part by the chain of file names that leads to it:
// "outer.zip/inner.zip/invoice.pdf.exe", or its MIME path when unnamed.
func displayPath(m *message.Message, i int) string {
	var names []string
	for n := 0; i >= 0 && i < len(m.Parts) && n < 64; n++ {
		p := m.Parts[i]
		name := p.Filename
		if name == "" {
			name = "part " + p.MIMEPath
		}
		names = append([]string{name}, names...)
		i = p.Parent
	}
	return strings.Join(names, "/")
}
