package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// mtaRow is the MTA dimension of the bench for one MTA: qscan's drain of
// the same messages from that MTA's incoming queue, and the SMTP pick-up
// latency through it, both with the shipped configuration.
type mtaRow struct {
	name   string
	n      int
	wall   time.Duration   // the median of walls
	walls  []time.Duration // one per round
	lat    *stackutil.Latencies
	errs   []string
	failed bool
}

func (r mtaRow) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// stackMTAs returns the MTAs of the test stack named in spec (comma
// separated; "" is every one that is up), with a note for each left out.
func stackMTAs(spec string) ([]stackutil.MTA, []string) {
	var notes []string
	want := strings.Split(spec, ",")
	if spec == "" {
		want = []string{"sendmail", "postfix", "exim"}
	}
	s, err := stackutil.Env()
	if err != nil {
		return nil, []string{"MTAs: " + firstLine(err.Error())}
	}
	var out []stackutil.MTA
	for _, name := range want {
		component := name
		if err := stackutil.Status(component); err != nil {
			notes = append(notes, fmt.Sprintf("%s not up: left out of the MTA runs (scripts/teststack start %s)", name, component))
			continue
		}
		switch name {
		case "sendmail":
			out = append(out, s.SendmailMTA())
		case "postfix":
			p, err := stackutil.PostfixEnv()
			if err == nil {
				var m stackutil.MTA
				if m, err = p.PostfixMTA(); err == nil {
					out = append(out, m)
				}
			}
			if err != nil {
				notes = append(notes, "postfix: "+firstLine(err.Error()))
			}
		case "exim":
			e, err := s.Exim()
			if err != nil {
				notes = append(notes, "exim: "+firstLine(err.Error()))
				continue
			}
			out = append(out, e.EximMTA())
		default:
			fail(fmt.Errorf("-mta %s: want sendmail, postfix or exim", name))
		}
	}
	return out, notes
}

// runMTAs drains n generated messages (one in ten with EICAR), submitted
// by SMTP, from each MTA's incoming queue with `qscan run --once` and the
// shipped configuration, then measures the SMTP pick-up latency through
// each (smtpN messages at smtpRate per second).
func runMTAs(bin, root string, mtas []stackutil.MTA, n, rounds, smtpN, smtpRate int) []mtaRow {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = stackutil.Message("bench", i, "mta", i%10 == 7).Raw
	}
	s, _ := stackutil.Env()
	rows := make([]mtaRow, len(mtas))
	// The MTAs take turns, round after round: a machine whose speed
	// drifts slows them alike.
	for round := 0; round < max(rounds, 1); round++ {
		for i, m := range mtas {
			r := &rows[i]
			r.name, r.n = m.Name, n
			if r.failed {
				continue
			}
			var wall time.Duration
			if err := runMTA(bin, filepath.Join(root, fmt.Sprintf("mta-%s-%d", m.Name, round)), s, m, msgs, &wall); err != nil {
				r.failed = true
				r.errs = append(r.errs, err.Error())
				continue
			}
			r.walls = append(r.walls, wall)
		}
	}
	for i, m := range mtas {
		r := &rows[i]
		if len(r.walls) > 0 {
			w := slices.Clone(r.walls)
			slices.Sort(w)
			r.wall = w[len(w)/2]
		}
		if smtpN > 0 {
			lat, err := runMTALatency(bin, filepath.Join(root, "mta-"+m.Name+"-smtp"), s, m, smtpN, smtpRate)
			if err != nil {
				r.failed = true
				r.errs = append(r.errs, "SMTP latency: "+err.Error())
			} else {
				r.lat = &lat
			}
		}
		m.Empty() // the bench's mail is not for delivery
	}
	return rows
}

// mtaConfig writes the shipped configuration for m under dir.
func mtaConfig(dir string, s stackutil.Stack, m stackutil.MTA) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	text, err := m.Config(s, dir, nil)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "qscan.toml")
	return path, os.WriteFile(path, text, 0o644)
}

func runMTA(bin, dir string, s stackutil.Stack, m stackutil.MTA, msgs [][]byte, wall *time.Duration) error {
	if err := m.Empty(); err != nil {
		return err
	}
	cfg, err := mtaConfig(dir, s, m)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: %s: submitting %d messages\n", m.Name, len(msgs))
	for i, err := range stackutil.SubmitAll(m.SMTP, "bench@example.org", []string{"bob@example.test"}, msgs) {
		if err != nil {
			return fmt.Errorf("submit message %d: %w", i, err)
		}
	}
	if !stackutil.WaitUntil(5*time.Minute, func() bool { return m.Queued() >= len(msgs) }) {
		return fmt.Errorf("%s queued %d of %d messages", m.Name, m.Queued(), len(msgs))
	}
	cmd := exec.Command(bin, "run", "--once", "-c", cfg)
	cmd.Env = append(os.Environ(), m.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	*wall = time.Since(start)
	if err != nil {
		return fmt.Errorf("qscan run --once: %w\n%s", err, tail(out.Bytes(), 2000))
	}
	if left := m.Queued(); left != 0 {
		return fmt.Errorf("%d messages left in %s's incoming queue", left, m.Name)
	}
	return nil
}

// runMTALatency is runSMTPLatency through m.
func runMTALatency(bin, dir string, s stackutil.Stack, m stackutil.MTA, n, rate int) (stackutil.Latencies, error) {
	if err := m.Empty(); err != nil {
		return stackutil.Latencies{}, err
	}
	cfg, err := mtaConfig(dir, s, m)
	if err != nil {
		return stackutil.Latencies{}, err
	}
	var stderr bytes.Buffer
	d, err := stackutil.NewDaemon(bin, cfg, stackutil.DaemonOpts{Log: &stderr, Env: m.Env})
	if err != nil {
		return stackutil.Latencies{}, err
	}
	defer d.Stop()
	time.Sleep(time.Second) // the start-up scan is not what is measured
	lat, err := stackutil.SMTPLatencyMTA(m, "bench@example.org", []string{"bob@example.test"}, plainMessages(), n, rate, 2*time.Minute)
	if err != nil {
		return lat, fmt.Errorf("%w\n%s", err, tail(stderr.Bytes(), 2000))
	}
	return lat, nil
}

// reportMTAs writes the MTA table: each MTA's drain rate beside
// sendmail's, and its SMTP pick-up latency, against the goals.
func reportMTAs(w io.Writer, rows []mtaRow) {
	if len(rows) == 0 {
		return
	}
	base := 0.0
	for _, r := range rows {
		if r.name == "sendmail" && !r.failed && r.wall > 0 {
			base = r.rate()
		}
	}
	fmt.Fprintf(w, "\nMTAs (shipped configuration, built-in engine; %d generated messages, one in ten with EICAR, submitted by SMTP to each MTA, then `qscan run --once`, %d rounds, the MTAs taking turns, median shown; SMTP pick-up: daemon, end of the SMTP transaction → the message in the outgoing queue):\n\n", rows[0].n, len(rows[0].walls))
	fmt.Fprintln(w, "| MTA | drain wall s (median) | drain msg/s | / sendmail (goal ≥ 0.8) | rounds, wall s | SMTP pick-up p50 | p99 | max | p50 goal < 50 ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---:|---:|---:|---|")
	for _, r := range rows {
		cells := []string{r.name, "–", "–", "–", "–", "–", "–", "–", "–"}
		var ws []string
		for _, w := range r.walls {
			ws = append(ws, fmt.Sprintf("%.2f", w.Seconds()))
		}
		if len(ws) > 0 {
			cells[4] = strings.Join(ws, " ")
		}
		if r.wall > 0 {
			cells[1], cells[2] = fmt.Sprintf("%.2f", r.wall.Seconds()), fmt.Sprintf("%.0f", r.rate())
			if base > 0 {
				q := r.rate() / base
				cells[3] = fmt.Sprintf("%.2f", q)
				if q < 0.8 {
					cells[3] += " (below)"
				}
			}
		}
		if l := r.lat; l != nil {
			cells[5], cells[6], cells[7] = l.P50.Round(100*time.Microsecond).String(), l.P99.Round(100*time.Microsecond).String(), l.Max.Round(100*time.Microsecond).String()
			cells[8] = "met"
			if l.P50 >= 50*time.Millisecond {
				cells[8] = "not met"
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, r := range rows {
		for _, e := range r.errs {
			fmt.Fprintf(w, "- %s: %s\n", r.name, firstLine(e))
		}
	}
}
