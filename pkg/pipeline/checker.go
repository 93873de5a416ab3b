package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// Checker runs the stages on a message and decides what becomes of it. The
// pipeline uses it for queued mail; `qscan scan` uses it on files.
type Checker struct {
	stages  []Stage
	headers Headers
}

// NewChecker returns a Checker for the stages, with the header options
// of o.
func NewChecker(stages []Stage, o Options) *Checker {
	return &Checker{stages: stages, headers: o.Headers}
}

// decision is what becomes of a checked message.
type decision struct {
	verdict string // clean, blocked, ...
	whole   string // non-empty: quarantine the whole message for this reason
	value   string // value of the X-<Org>-QScan header
}

// run runs every stage in order and returns each stage's milliseconds.
func (c *Checker) run(ctx context.Context, m *message.Message) (map[string]int64, error) {
	ms := make(map[string]int64, len(c.stages))
	for _, s := range c.stages {
		t := time.Now()
		err := s.Check(ctx, m)
		ms[s.Name()] = time.Since(t).Milliseconds()
		if err != nil {
			return ms, fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	return ms, nil
}

// decide is a pure function of the reports. Until parts can be replaced
// (rebuilding), any report keeps the whole message in the quarantine:
// never deliver what a check objected to.
func (c *Checker) decide(m *message.Message) decision {
	if len(m.Reports) == 0 {
		return decision{verdict: "clean", value: c.headers.Clean}
	}
	texts := make([]string, 0, len(m.Reports))
	for _, r := range m.Reports {
		texts = append(texts, r.Text)
	}
	return decision{verdict: "blocked", whole: strings.Join(texts, "; ")}
}

// headerName is X-<OrgName>-QScan.
func (c *Checker) headerName() string { return "X-" + c.headers.OrgName + "-QScan" }

// ownHeaders are the names of every header qscan adds; copies that arrive
// with a message are removed as forgeries.
func (c *Checker) ownHeaders() []string {
	b := c.headerName()
	return []string{b, b + "-ID", b + "-From", b + "-To"}
}

// addedHeaders lists the headers to add to a message with the given value.
func (c *Checker) addedHeaders(m *message.Message, value string) [][2]string {
	b := c.headerName()
	hs := [][2]string{{b, value}}
	if c.headers.AddID {
		hs = append(hs, [2]string{b + "-ID", m.ID})
	}
	if c.headers.AddFrom && m.Envelope.Sender != "" {
		hs = append(hs, [2]string{b + "-From", m.Envelope.Sender})
	}
	if c.headers.AddTo && len(m.Envelope.Recipients) > 0 {
		hs = append(hs, [2]string{b + "-To", strings.Join(m.Envelope.Recipients, ", ")})
	}
	return hs
}

// Result is the outcome of Check.
type Result struct {
	Verdict string
	Reason  string // why the whole message is kept back, if it is
	Message []byte // the message as it would be delivered; nil when kept back
}

// Check runs the stages on m and returns the verdict and the message as
// qscan would deliver it.
func (c *Checker) Check(ctx context.Context, m *message.Message) (Result, error) {
	if _, err := c.run(ctx, m); err != nil {
		return Result{Verdict: "error"}, err
	}
	d := c.decide(m)
	if d.whole != "" {
		return Result{Verdict: d.verdict, Reason: d.whole}, nil
	}
	var out bytes.Buffer
	add := c.addedHeaders(m, d.value)
	if c.headers.AtTop {
		writeHeaders(&out, add)
	}
	out.Write(dropHeaders(m.Header, c.ownHeaders()))
	if !c.headers.AtTop {
		writeHeaders(&out, add)
	}
	out.WriteByte('\n')
	out.Write(m.Body)
	return Result{Verdict: d.verdict, Message: out.Bytes()}, nil
}

func writeHeaders(w *bytes.Buffer, hs [][2]string) {
	for _, h := range hs {
		fmt.Fprintf(w, "%s: %s\n", h[0], h[1])
	}
}

// dropHeaders removes the named headers (with their continuation lines)
// from a header block.
func dropHeaders(block []byte, names []string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(block))
	sc.Buffer(make([]byte, 64<<10), len(block)+1)
	skipping := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				out.Write(line)
				out.WriteByte('\n')
			}
			continue
		}
		skipping = false
		if i := bytes.IndexByte(line, ':'); i > 0 {
			name := strings.TrimSpace(string(line[:i]))
			for _, n := range names {
				if strings.EqualFold(name, n) {
					skipping = true
				}
			}
		}
		if !skipping {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}
