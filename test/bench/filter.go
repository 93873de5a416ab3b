package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// The SMTP content filter's dimension: messages per second through the
// test stack's filter Postfix (scripts/teststack.d/postfixfilter.sh),
// Postfix -> qscan ([smtp] listen) -> Postfix (re-injection) -> sink,
// against the same Postfix with no filter (the same messages submitted to
// a second smtpd like the clients' but with content_filter empty, PFF_PLAIN:
// Postfix as a site ran it before the filter): the floor of the layout,
// since a filtered message passes through Postfix twice.

// filterRow is one way through the filter Postfix.
type filterRow struct {
	label  string
	engine string // "" for the row without a filter
	amavis bool   // amavisd-new in qscan's place
	spam   bool   // with SpamAssassin: qscan with the stack's spamd, amavisd-new with its own
	n      int    // messages submitted
	got    int    // messages at the sink (reports to senders included)
	wall   time.Duration
	cpu    time.Duration // qscan's CPU during the run; 0: no qscan
	mcpu   time.Duration // the machine's busy CPU during the run (/proc/stat)
	groups cpuGroups     // Postfix's, the sink's and the submitters' CPU during the run
	err    string
}

func (r filterRow) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// runFilter submits the same n generated messages (one in ten with EICAR)
// with conc SMTP connections at once: to Postfix with no filter, then
// through qscan with each of engines.
//
// "clamd+spamd" and "amavisd+sa" add SpamAssassin (the stack's spamd for
// qscan, amavisd-new's own with spamd's site configuration), over the first
// saN messages: SpamAssassin makes these rows slow.
func runFilter(bin, root string, n, saN, conc int, engines []string) ([]filterRow, []string) {
	if err := stackutil.Status("sink", "postfixfilter"); err != nil {
		return nil, []string{"SMTP content filter: not measured (scripts/teststack start sink postfixfilter)"}
	}
	s, err := stackutil.Env()
	if err != nil {
		return nil, []string{"SMTP content filter: " + firstLine(err.Error())}
	}
	pf, err := stackutil.PostfixFilterEnv()
	if err != nil {
		return nil, []string{"SMTP content filter: " + firstLine(err.Error())}
	}
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = stackutil.Message("bench", i, "filter", i%10 == 7).Raw
	}
	var notes []string
	rows := []filterRow{{label: "Postfix, no filter"}}
	for _, e := range engines {
		row := filterRow{label: "Postfix → qscan → Postfix", engine: e}
		switch e {
		case "amavisd", "amavisd+sa":
			row = filterRow{label: "Postfix → amavisd-new → Postfix", engine: "clamd", amavis: true, spam: e == "amavisd+sa"}
			if why := amavisAvailable(row.spam); why != "" {
				notes = append(notes, e+": not measured, "+why)
				continue
			}
		case "clamd+spamd":
			row = filterRow{label: "Postfix → qscan → Postfix", engine: "clamd", spam: true}
		}
		need := []string{}
		if row.engine == "clamd" {
			need = append(need, "clamd")
		}
		if row.spam {
			need = append(need, "spamd")
		}
		if err := stackutil.Status(need...); len(need) > 0 && err != nil {
			notes = append(notes, fmt.Sprintf("SMTP content filter %s: not measured, %s not up (scripts/teststack start %s)", e, strings.Join(need, " or "), strings.Join(need, " ")))
			continue
		}
		rows = append(rows, row)
	}
	for i := range rows {
		r := &rows[i]
		r.n = n
		if r.spam {
			r.n = min(saN, n)
		}
		if err := filterOne(bin, filepath.Join(root, fmt.Sprintf("filter-%d", i)), s, pf, msgs[:r.n], conc, r); err != nil {
			r.err = err.Error()
			fmt.Fprintf(os.Stderr, "bench: filter: %s %s: %v\n", r.label, r.engine, err)
		}
	}
	stackutil.ClearSink(s.SinkDir) // the bench's mail is not for delivery
	return rows, notes
}

// filterOne runs one row: qscan started (unless the row has no engine)
// and listening, the sink emptied, the messages submitted, and the wall
// from the first submission to the last message at the sink once
// Postfix's queue and qscan's spool are empty.
func filterOne(bin, dir string, s stackutil.Stack, pf stackutil.PostfixFilter, msgs [][]byte, conc int, r *filterRow) error {
	if err := waitQuiet(pf, "", time.Minute); err != nil {
		return err
	}
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		return err
	}
	to, spool := pf.Plain, ""
	var d *stackutil.Daemon
	var log bytes.Buffer
	var am *amavisRun
	cpu := func() time.Duration { return procCPU(d) }
	if r.amavis {
		to = pf.SMTP
		var err error
		if am, err = startAmavis(s, pf, conc, r.spam); err != nil {
			return err
		}
		defer am.stop()
		cpu = am.cpu
		if !stackutil.WaitUntil(60*time.Second, func() bool { return greets(pf.Filter) }) {
			return fmt.Errorf("amavisd does not listen on %s\n%s", pf.Filter, am.log())
		}
		time.Sleep(time.Second)
	} else if r.engine != "" {
		to, spool = pf.SMTP, filepath.Join(dir, "spool")
		cfg, err := filterConfig(s, pf, dir, r.engine, r.spam)
		if err != nil {
			return err
		}
		if d, err = stackutil.NewDaemon(bin, cfg, stackutil.DaemonOpts{Log: &lockedBuf{b: &log}, Group: true}); err != nil {
			return err
		}
		defer d.Stop()
		if !stackutil.WaitUntil(30*time.Second, func() bool { return greets(pf.Filter) }) {
			return fmt.Errorf("qscan does not listen on %s\n%s", pf.Filter, tail(log.Bytes(), 2000))
		}
		time.Sleep(time.Second) // the start-up scan is not what is measured
	}
	fmt.Fprintf(os.Stderr, "bench: filter: %s %s: %d messages, %d connections\n", r.label, r.engine, len(msgs), conc)
	cpu0, mcpu0, g0 := cpu(), machineCPU(), groupCPU(pf)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, conc)
	for c := 0; c < conc; c++ {
		var part [][]byte
		for i := c; i < len(msgs); i += conc {
			part = append(part, msgs[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, err := range stackutil.SubmitAll(to, "bench@example.org", []string{"bob@example.test"}, part) {
				if err != nil && errs[c] == nil {
					errs[c] = err
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if !stackutil.WaitUntil(10*time.Minute, func() bool { return sinkCount(s.SinkDir) >= len(msgs) }) {
		return fmt.Errorf("%d of %d messages at the sink after 10 minutes\n%s", sinkCount(s.SinkDir), len(msgs), tail(log.Bytes(), 2000))
	}
	if err := waitQuiet(pf, spool, 5*time.Minute); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(log.Bytes(), 2000))
	}
	r.cpu, r.mcpu, r.groups = cpu()-cpu0, machineCPU()-mcpu0, groupCPU(pf).sub(g0)
	got, err := stackutil.ReadSink(s.SinkDir)
	if err != nil {
		return err
	}
	r.got = len(got)
	var last time.Time
	for _, m := range got {
		if m.Received.After(last) {
			last = m.Received
		}
	}
	r.wall = last.Sub(start)
	if os.Getenv("BENCH_LOG_DIR") != "" && d != nil {
		os.WriteFile(filepath.Join(os.Getenv("BENCH_LOG_DIR"), "filter-"+r.engine+".log"), log.Bytes(), 0o644)
	}
	return nil
}

// filterReinject is [smtp] reinject_connections for the runs; 0: the
// shipped value.
var filterReinject int

// filterConfig writes the shipped configuration for qscan as the filter
// Postfix's content filter (paths and addresses, and the virus engine).
func filterConfig(s stackutil.Stack, pf stackutil.PostfixFilter, dir, engine string, spam bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	text, err := stackutil.ShippedFor(s, dir)
	if err != nil {
		return "", err
	}
	set := map[string]string{
		"smtp.listen":    "[" + stackutil.Quote(pf.Filter) + "]",
		"smtp.spool":     stackutil.Quote(filepath.Join(dir, "spool")),
		"smtp.reinject":  stackutil.Quote(pf.Reinject),
		"virus.scanners": "[" + stackutil.Quote(engine) + "]",
	}
	if filterReinject > 0 {
		set["smtp.reinject_connections"] = strconv.Itoa(filterReinject)
	}
	if spam {
		set["spam.engines"] = `["spamd"]`
	}
	text, err = stackutil.ReplaceKeys(text, set)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "qscan.toml")
	return path, os.WriteFile(path, text, 0o644)
}

// waitQuiet waits until the filter Postfix's queue (and qscan's spool,
// when given) holds no message.
func waitQuiet(pf stackutil.PostfixFilter, spool string, timeout time.Duration) error {
	n := 0
	if stackutil.WaitUntil(timeout, func() bool {
		n = countFiles(pf.Queue, "incoming", "active", "deferred", "maildrop", "hold")
		if spool != "" {
			m, _ := filepath.Glob(filepath.Join(spool, "ef*"))
			n += len(m)
		}
		return n == 0
	}) {
		return nil
	}
	return fmt.Errorf("%d messages still queued in Postfix or qscan's spool after %s", n, timeout)
}

// countFiles counts the regular files under the named subdirectories.
func countFiles(root string, dirs ...string) int {
	n := 0
	for _, d := range dirs {
		filepath.WalkDir(filepath.Join(root, d), func(_ string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				n++
			}
			return nil
		})
	}
	return n
}

func sinkCount(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	return len(m)
}

// greets reports whether an SMTP server answers 220 at addr.
func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, 4)
	_, err = io.ReadFull(c, b)
	return err == nil && string(b[:3]) == "220"
}

// procCPU is the CPU the daemon has used so far; 0 without one.
func procCPU(d *stackutil.Daemon) time.Duration {
	if d == nil {
		return 0
	}
	f := statFields(d.Pid())
	if len(f) < 13 {
		return 0
	}
	return ticks(f[11]) + ticks(f[12])
}

// machineCPU is the busy CPU time of the whole machine so far (user,
// nice, system, irq and softirq of /proc/stat's cpu line; not steal, the
// time the host gave to others): Postfix's processes come and go, so
// theirs is counted as the machine's less the filter's.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy time.Duration
	for _, i := range []int{1, 2, 3, 6, 7} {
		busy += ticks(f[i])
	}
	return busy
}

func reinjectNote() string {
	if filterReinject > 0 {
		return fmt.Sprintf(" and reinject_connections = %d", filterReinject)
	}
	return ""
}

// statFields are the fields of /proc/pid/stat after the command name
// (which may hold spaces): f[0] is the state, f[2] the process group,
// f[11] and f[12] utime and stime, f[13] and f[14] those of reaped
// children, in clock ticks.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// lockedBuf is a log buffer the daemon writes while the bench may read it.
type lockedBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// reportFilter writes the content filter's table: each way's rate beside
// Postfix's with no filter.
func reportFilter(w io.Writer, rows []filterRow, notes []string, conc int) {
	if len(rows) == 0 && len(notes) == 0 {
		return
	}
	n := 0
	if len(rows) > 0 {
		n = rows[0].n
	}
	fmt.Fprintf(w, "\nSMTP content filter (the test stack's filter Postfix, shipped qscan configuration but the virus engine%s; %d generated messages, one in ten with EICAR, submitted by SMTP over %d connections at once; wall: first submission → last message at the sink, Postfix's queue and qscan's spool empty):\n\n", reinjectNote(), n, conc)
	fmt.Fprintln(w, "| path | virus engine | messages | at the sink | wall s | msg/s | / no filter (goal ≥ 0.5 with builtin) | filter CPU s | machine CPU ms/msg | of which filter / Postfix / sink and submitters / rest |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	base := 0.0
	if len(rows) > 0 && rows[0].engine == "" && rows[0].err == "" && rows[0].wall > 0 {
		base = rows[0].rate()
	}
	for _, r := range rows {
		cells := []string{r.label, "–", strconv.Itoa(r.n), "–", "–", "–", "–", "–", "–", "–"}
		if r.engine != "" {
			cells[1] = r.engine
		}
		if r.spam {
			cells[1] += map[bool]string{false: " + spamd", true: " + SpamAssassin"}[r.amavis]
		}
		if r.err == "" && r.wall > 0 {
			cells[3] = strconv.Itoa(r.got)
			cells[4], cells[5] = fmt.Sprintf("%.2f", r.wall.Seconds()), fmt.Sprintf("%.0f", r.rate())
			if base > 0 {
				cells[6] = fmt.Sprintf("%.2f", r.rate()/base)
				if r.engine == "builtin" && r.rate()/base < 0.5 {
					cells[6] += " (below)"
				}
			}
			if r.cpu > 0 {
				cells[7] = fmt.Sprintf("%.2f", r.cpu.Seconds())
			}
			if r.mcpu > 0 {
				per := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Milliseconds())/float64(r.n)) }
				g := r.groups
				cells[8] = per(r.mcpu)
				cells[9] = strings.Join([]string{per(r.cpu), per(g.postfix), per(g.sink + g.bench), per(r.mcpu - r.cpu - g.postfix - g.sink - g.bench)}, " / ")
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, r := range rows {
		if r.err != "" {
			fmt.Fprintf(w, "- %s %s: %s\n", r.label, r.engine, firstLine(r.err))
		}
	}
	if s := freeFilterNote(rows); s != "" {
		fmt.Fprintf(w, "- %s\n", s)
	}
	if s := amavisNote(rows); s != "" {
		fmt.Fprintf(w, "- %s\n", s)
	}
	for _, s := range notes {
		fmt.Fprintf(w, "- %s\n", s)
	}
}

// freeFilterNote says what ratio the qscan rows' work besides the filter
// would allow with a filter that cost no CPU, when the machine was busy
// throughout (on a CPU-bound machine the rate is the CPUs over the CPU per
// message): the floor the layout leaves on this machine.
func freeFilterNote(rows []filterRow) string {
	if len(rows) < 2 || rows[0].engine != "" || rows[0].err != "" || rows[0].mcpu <= 0 {
		return ""
	}
	base := rows[0]
	var parts []string
	for _, r := range rows[1:] {
		if r.err != "" || r.amavis || r.spam || r.mcpu <= r.cpu || r.wall <= 0 {
			continue
		}
		busy := r.mcpu.Seconds() / (r.wall.Seconds() * float64(runtime.NumCPU()))
		parts = append(parts, fmt.Sprintf("%s: at most %.2f× (the CPUs %.0f %% busy)", r.engine,
			base.mcpu.Seconds()/float64(base.n)/((r.mcpu-r.cpu).Seconds()/float64(r.n)), 100*busy))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Ratio a filter that cost no CPU would reach, from each row's CPU per message besides the filter's against the no-filter row's (meaningful when the CPUs were busy throughout): " + strings.Join(parts, "; ") + "."
}

// amavisNote compares qscan with amavisd-new, without and with
// SpamAssassin (the goals: 5× its rate without, ahead with).
func amavisNote(rows []filterRow) string {
	find := func(amavis, spam bool) *filterRow {
		for i := range rows {
			r := &rows[i]
			if r.amavis == amavis && r.spam == spam && r.engine == "clamd" && r.err == "" && r.wall > 0 {
				return r
			}
		}
		return nil
	}
	var parts []string
	for _, spam := range []bool{false, true} {
		q, a := find(false, spam), find(true, spam)
		if q == nil || a == nil {
			continue
		}
		what := map[bool]string{false: "without SpamAssassin (goal 5×)", true: "with SpamAssassin (goal above 1×)"}[spam]
		// The machine's CPU, not the filters': qscan's SpamAssassin is
		// spamd, amavisd-new's runs inside it.
		per := func(r *filterRow) float64 { return r.mcpu.Seconds() * 1000 / float64(r.n) }
		parts = append(parts, fmt.Sprintf("%s %.2f× its rate (%.0f against %.0f msg/s), %.1f against %.1f ms of the machine's CPU per message",
			what, q.rate()/a.rate(), q.rate(), a.rate(), per(q), per(a)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "qscan against amavisd-new, both with clamd: " + strings.Join(parts, "; ") + "."
}
