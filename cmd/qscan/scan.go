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

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/sendmail"
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
		res, d := scanFile(chk, file)
		code = worseScanExit(code, scanExit(res.Verdict))
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		} else {
			printResult(res)
		}
		if *out != "" {
			if err := d.write(*out); err != nil {
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

// scanFile checks one file as the queue path checks a queued message: the
// header goes into a queue file as sendmail stores it, the body is the df
// (its bytes as they are), and the checker makes on that queue file the
// changes the pipeline makes on the outgoing one. The second result is the
// message as qscan would deliver it.
func scanFile(chk *pipeline.Checker, file string) (scanResult, delivered) {
	res := scanResult{File: file}
	raw, err := os.ReadFile(file)
	if err != nil {
		res.Verdict, res.Error = "error", err.Error()
		return res, delivered{err: err}
	}
	header, body := splitFile(raw)
	m := &message.Message{ID: "scan", Body: body, Size: int64(len(raw)), Received: time.Now()}
	m.Envelope = headerEnvelope(header)
	qf, qerr := scanQf(m, header)
	d := delivered{crlf: bytes.HasSuffix(firstLine(raw), []byte("\r\n")), err: qerr}
	if qf != nil {
		m.Header = qf.HeaderBlock()
	} else {
		// No queue file (a header sendmail would not have taken): check the
		// header as sendmail would store it all the same.
		m.Header = bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n"))
	}
	v, err := chk.Check(context.Background(), m, qf)
	if err != nil {
		res.Verdict, res.Error = "error", err.Error()
		return res, delivered{err: err}
	}
	res.Verdict, res.Reason, res.Spam = v.Verdict, v.Reason, m.Spam
	res.Reports = []scanReport{}
	for _, r := range m.Reports {
		sr := scanReport{Report: r}
		sr.Path = displayPath(m, r.Part)
		res.Reports = append(res.Reports, sr)
	}
	d.header, d.body = v.Header, v.Body
	return res, d
}

// maxScanHeader bounds the header scan takes an envelope and a queue file
// from: a larger one is not a real header (the checks will say so), and is
// not copied.
const maxScanHeader = 1 << 20

// headerEnvelope takes the envelope of a file from its From: and To:.
func headerEnvelope(header []byte) message.Envelope {
	var env message.Envelope
	if len(header) > maxScanHeader {
		return env
	}
	h, err := mail.ReadMessage(bytes.NewReader(append(bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n")), '\n')))
	if err != nil {
		return env
	}
	if a, err := mail.ParseAddress(h.Header.Get("From")); err == nil {
		env.Sender = a.Address
	}
	if as, err := h.Header.AddressList("To"); err == nil {
		for _, a := range as {
			env.Recipients = append(env.Recipients, a.Address)
		}
	}
	return env
}

// scanQf builds the queue file sendmail would write for m with header.
// Its envelope only carries the header: the checks take m.Envelope.
func scanQf(m *message.Message, header []byte) (*sendmail.Qf, error) {
	if len(header) > maxScanHeader {
		return nil, fmt.Errorf("the message cannot be written as a queue file: header larger than %d bytes", maxScanHeader)
	}
	rcpts := m.Envelope.Recipients
	if len(rcpts) == 0 {
		rcpts = []string{"postmaster"}
	}
	qf, err := sendmail.NewQf(m.Envelope.Sender, rcpts, header, sendmail.NewOpts{
		Time: m.Received, BodySize: int64(len(m.Body)), MaxHeaderBytes: max(len(header), sendmail.DefaultMaxHeaderBytes),
		EightBit: bytes.ContainsFunc(m.Body, func(r rune) bool { return r >= 0x80 }),
	})
	if err != nil {
		return nil, fmt.Errorf("the message cannot be written as a queue file: %w", err)
	}
	return qf, nil
}

// delivered is the message as qscan would deliver it.
type delivered struct {
	header, body []byte // nil: kept back
	crlf         bool   // the file's lines end in CRLF: so do the header's
	err          error  // why there is no delivered message
}

// write writes the delivered message to path: the header as sendmail
// delivers it from the outgoing queue file, with the file's line ends, and
// the body as the outgoing df holds it. A message kept back writes nothing.
func (d delivered) write(path string) error {
	if d.err != nil {
		return d.err
	}
	if d.header == nil {
		return nil
	}
	header, nl := d.header, []byte("\n")
	if d.crlf {
		header, nl = bytes.ReplaceAll(header, nl, []byte("\r\n")), []byte("\r\n")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	for _, b := range [][]byte{header, nl, d.body} {
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// splitFile splits a message file at its first empty line (LF or CRLF),
// keeping the bytes of both sides: the header with its last line end, the
// body after the empty line.
func splitFile(raw []byte) (header, body []byte) {
	for off := 0; off < len(raw); {
		line := firstLine(raw[off:])
		if len(line) <= 2 && (string(line) == "\n" || string(line) == "\r\n") {
			return raw[:off], raw[off+len(line):]
		}
		off += len(line)
	}
	return raw, nil
}

// firstLine returns b up to and including its first LF (all of b if none).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
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
