// Package viruscheck is the virus check of the pipeline: it scans every
// exploded part and the whole message with the configured engines and
// turns their findings into reports. An engine that cannot give a verdict
// makes the check fail, so the message is held, never delivered unscanned.
package viruscheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/virus"
)

// Scanner is what the stage needs of an engine (a virus.Multi, usually).
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (virus.Result, error)
}

// Options tune the stage.
type Options struct {
	// Concurrency bounds the scans of one message in flight (the engines
	// bound themselves too, e.g. clamd's MaxThreads). Default 4.
	Concurrency int
	// Heuristics decides what a finding whose name starts with
	// "Heuristics." means: "infected" (default), "report" (reported,
	// part kept) or "ignore".
	Heuristics string
	// DeliverUnscannable lets content an engine refused as too large go
	// through with a report; when false (default) the message is held.
	DeliverUnscannable bool
	// Silent virus names are reported as silent (no notices).
	Silent func(name string) bool
	// ScanTextBodies scans plain-text bodies on their own as well; by
	// default they are scanned as part of the whole message only (see
	// scannedWhole).
	ScanTextBodies bool
	// Batch are engines run once per message over all its contents (the
	// whole message and every part, text bodies included), such as a
	// command-line scanner that would otherwise load its signatures for
	// each part. Their findings join the stream engines' per part.
	Batch []Batch
}

// Batch is an engine that scans many contents in one run; its results
// are in the order of contents (virus.BatchScanner).
type Batch interface {
	ScanAll(ctx context.Context, contents [][]byte) ([]virus.Result, error)
}

// Stage scans messages. Its Scanner (nil: none) scans each content on
// its own; the Batch engines scan them all at once.
type Stage struct {
	scan Scanner
	opt  Options
}

// ErrUnscannable is returned when content is too large for an engine and
// DeliverUnscannable is off.
var ErrUnscannable = errors.New("virus stage: content too large for the engine")

// New returns the stage.
func New(s Scanner, opt Options) *Stage {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Heuristics == "" {
		opt.Heuristics = "infected"
	}
	return &Stage{scan: s, opt: opt}
}

// Name is the stage's name in logs and metrics.
func (s *Stage) Name() string { return "virus" }

type job struct {
	part int // -1: the whole message
	data []byte
	res  virus.Result
	err  error
}

// Check scans the parts and the whole message.
func (s *Stage) Check(ctx context.Context, m *message.Message) error {
	whole := &job{part: -1, data: m.Raw()}
	jobs := []*job{whole}
	var later []*job // text bodies the whole message covers
	for i := range m.Parts {
		if len(m.Parts[i].Data) == 0 {
			continue
		}
		j := &job{part: i, data: m.Parts[i].Data}
		if !s.opt.ScanTextBodies && scannedWhole(m.Parts[i]) {
			later = append(later, j)
		} else {
			jobs = append(jobs, j)
		}
	}
	if err := s.runBatch(ctx, m, slices.Concat(jobs, later)); err != nil {
		return err
	}
	if s.scan == nil {
		return s.report(m, slices.Concat(jobs, later))
	}
	if err := s.run(ctx, m, jobs); err != nil {
		return err
	}
	if len(later) > 0 && (whole.res.Infected() || whole.res.LimitExceeded) {
		// Name the body that holds what the whole message was found to
		// hold, so that the body is replaced rather than the message kept;
		// or scan the bodies the engine did not read in a whole message
		// too large for it.
		if err := s.run(ctx, m, later); err != nil {
			return err
		}
	}
	// Text bodies not scanned again by the stream engines still carry
	// the batch engines' findings.
	return s.report(m, slices.Concat(jobs, later))
}

// runBatch runs each batch engine once over every job's content and adds
// its findings to the jobs. A failure holds the message, as a stream
// engine's does.
func (s *Stage) runBatch(ctx context.Context, m *message.Message, jobs []*job) error {
	if len(s.opt.Batch) == 0 {
		return nil
	}
	contents := make([][]byte, len(jobs))
	for i, j := range jobs {
		contents[i] = j.data
	}
	for _, b := range s.opt.Batch {
		res, err := b.ScanAll(ctx, contents)
		if err != nil {
			return fmt.Errorf("scan %s: %w", partName(m, -1), err)
		}
		if len(res) != len(jobs) {
			return fmt.Errorf("scan %s: %d results for %d contents: %w", partName(m, -1), len(res), len(jobs), virus.ErrUnavailable)
		}
		for i, j := range jobs {
			j.res = merge(j.res, res[i])
		}
	}
	return nil
}

// merge joins two engines' results on the same content.
func merge(a, b virus.Result) virus.Result {
	switch {
	case a.Engine == "":
		a.Engine = b.Engine
	case b.Engine != "":
		a.Engine += "+" + b.Engine
	}
	a.Findings = append(a.Findings, b.Findings...)
	a.LimitExceeded = a.LimitExceeded || b.LimitExceeded
	return a
}

// run scans jobs, Concurrency at a time. The first engine failure stops
// the rest (the message is held whatever they find), so that a hung
// engine costs a message one timeout, not one per round of scans; it is
// the error returned. A scan turned away because its engine is down
// (virus.ErrNotTried) holds the message too, but stops nothing: the scan
// testing the engine may be one of this message's.
func (s *Stage) run(ctx context.Context, m *message.Message, jobs []*job) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once, notTriedOnce sync.Once
	var first, notTried error
	sem := make(chan struct{}, s.opt.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A bytes.Reader tells engines its length.
			var res virus.Result
			res, j.err = s.scan.Scan(ctx, bytes.NewReader(j.data))
			j.res = merge(j.res, res)
			if errors.Is(j.err, virus.ErrNotTried) {
				notTriedOnce.Do(func() { notTried = fmt.Errorf("scan %s: %w", partName(m, j.part), j.err) })
			} else if j.err != nil {
				once.Do(func() {
					first = fmt.Errorf("scan %s: %w", partName(m, j.part), j.err)
					cancel()
				})
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("virus scan: %w", ctx.Err()) // the caller's context ended
	}
	if first == nil {
		first = notTried
	}
	return first
}

// scannedWhole tells whether the scan of the whole message covers part p
// completely: a plain-text body (no file name, not an attachment or
// archive member) that stands byte for byte in the message. The engine
// reads those bytes there (and clamd again in its own MIME parsing); only
// a signature on the body as a file of its own (a hash of it) needs the
// separate scan, which doubles the engine's work for most mail.
func scannedWhole(p message.Part) bool {
	return p.Verbatim && p.Parent == -1 && p.Filename == "" &&
		p.DetectedType == "text/plain" && (p.DeclaredType == "text/plain" || p.DeclaredType == "")
}

// report turns findings into reports. A name found in a part is not
// reported again for the whole message.
func (s *Stage) report(m *message.Message, jobs []*job) error {
	inParts := map[string]bool{}
	for _, j := range jobs[1:] {
		for _, n := range j.res.Names() {
			inParts[n] = true
		}
	}
	for _, j := range jobs {
		if j.res.LimitExceeded {
			if !s.opt.DeliverUnscannable {
				return fmt.Errorf("%s: %w", partName(m, j.part), ErrUnscannable)
			}
			m.AddReport(message.Report{Kind: message.KindError, Part: j.part, Engine: j.res.Engine,
				Text: fmt.Sprintf("%s was too large to be scanned", partName(m, j.part))})
		}
		for _, f := range j.res.Findings {
			if j.part < 0 && inParts[f.Name] {
				continue
			}
			r := message.Report{Kind: message.KindVirus, Part: j.part, Engine: f.Engine, Name: f.Name,
				Text:   fmt.Sprintf("Virus '%s' found in %s", f.Name, partName(m, j.part)),
				Action: message.ActionReplace}
			if f.Heuristic {
				switch s.opt.Heuristics {
				case "ignore":
					continue
				case "report":
					r.Kind, r.Action = message.KindContent, message.ActionNone
					r.Text = fmt.Sprintf("Scanner heuristic '%s' in %s", f.Name, partName(m, j.part))
				}
			}
			r.User = r.Text
			r.Silent = s.opt.Silent != nil && s.opt.Silent(f.Name)
			m.AddReport(r)
		}
	}
	return nil
}

// partName names a part the way MailScanner's reports do: "file NAME", or
// the whole message.
func partName(m *message.Message, i int) string {
	if i < 0 || i >= len(m.Parts) {
		return "the message"
	}
	p := m.Parts[i]
	name := p.Filename
	if name == "" {
		name = "part " + p.Path
	}
	return "file " + sanitize(name)
}

// sanitize keeps names printable and bounded for logs and reports.
func sanitize(s string) string {
	const max = 200
	var b []rune
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200b {
			r = '?'
		}
		b = append(b, r)
		if len(b) >= max {
			return string(b) + "..."
		}
	}
	return string(b)
}
