// Command bench measures qscan: drains of N queued messages with `qscan
// run --once` for each engine set (none, builtin, clamd, clamd+spamd),
// beside the floor (the same messages moved with only the bare safe file
// operations) and beside the engines alone on the same messages (clamd
// over zINSTREAM and clamdscan --stream, spamd with spamc), the peak
// memory with large messages, and the pick-up latency of the daemon at a
// steady offered load, and the SMTP content filter's rate through the
// stack's filter Postfix (filter.go, amavis.go). Run it with `make bench`; the engines come from
// scripts/teststack (QSCAN_STACK, QSCAN_STACK_PORTS), and engine sets
// whose daemons do not answer are skipped with a note.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", envInt("BENCH_N", 2000), "messages to drain (BENCH_N)")
	engines := flag.String("engines", os.Getenv("BENCH_ENGINES"),
		`engine sets, comma separated: none, builtin, clamd, clamd+spamd ... (BENCH_ENGINES); default "none,builtin" plus clamd and clamd+spamd when the test stack has them`)
	conc := flag.Int("concurrency", envInt("BENCH_CONCURRENCY", 2*runtime.NumCPU()),
		"messages qscan checks at once and connections to each engine, for qscan and the engine-alone clients alike (BENCH_CONCURRENCY)")
	workers := flag.Int("workers", envInt("BENCH_WORKERS", 0),
		"messages qscan checks at once ([batch] workers), when other than -concurrency: e.g. more workers than engine connections (BENCH_WORKERS)")
	bigN := flag.Int("big-n", envInt("BENCH_BIG_N", 30), "messages in the memory run, 0: none (BENCH_BIG_N)")
	bigMB := flag.Int("big-mb", envInt("BENCH_BIG_MB", 20), "size of each message in the memory run, MB (BENCH_BIG_MB)")
	spamcReport := flag.Bool("spamc-report", os.Getenv("BENCH_SPAMC_REPORT") != "",
		"time spamd alone with spamc -R (REPORT, what qscan asks) instead of spamc -c (CHECK) (BENCH_SPAMC_REPORT)")
	rate := flag.Int("rate", 50, "offered load for the latency run, messages per second")
	latN := flag.Int("latency-n", 500, "messages for the latency run (0: no latency run)")
	smtpN := flag.Int("smtp-n", envInt("BENCH_SMTP_N", 200), "messages for the SMTP latency run through the stack's sendmail, shipped configuration (0: none; BENCH_SMTP_N)")
	smtpRate := flag.Int("smtp-rate", envInt("BENCH_SMTP_RATE", 20), "offered load of the SMTP latency run, messages per second (BENCH_SMTP_RATE)")
	delay := flag.Duration("engine-delay", envDuration("BENCH_ENGINE_DELAY"),
		"hold each engine answer this long in the relay, for every client alike: a slower engine (production signatures) without a slower CPU (BENCH_ENGINE_DELAY)")
	engineCPUs := flag.String("engine-cpus", os.Getenv("BENCH_ENGINE_CPUS"),
		"bind the stack's engines to these CPUs (e.g. 0) and the bench, qscan and the engines' own clients to the others: how busy qscan keeps an engine that does not share its CPUs (BENCH_ENGINE_CPUS)")
	rounds := flag.Int("rounds", envInt("BENCH_ROUNDS", 1), "drains of each engine set, each between runs of its engines alone; with more than one the report adds the median of each set's rounds: on a machine whose speed drifts, one round says little (BENCH_ROUNDS)")
	relay := flag.Bool("relay", os.Getenv("BENCH_RELAY") != "off",
		"put a counting relay in front of each engine (bytes, requests, requests in flight); with -relay=false every client talks to the engines directly and only their CPU is measured: the relay shares qscan's CPU and delays its requests when that CPU is busy (BENCH_RELAY=off)")
	sharedN := flag.Int("shared-n", envInt("BENCH_SHARED_N", 20000), "message-log rows for the shared-store run against the stack's PostgreSQL (0: none; BENCH_SHARED_N)")
	mtaSpec := flag.String("mta", os.Getenv("BENCH_MTA"), `MTAs of the test stack to drain from and measure the SMTP pick-up through, comma separated: sendmail, postfix, exim (BENCH_MTA); default: each one that is up; "none": no MTA runs`)
	mtaN := flag.Int("mta-n", envInt("BENCH_MTA_N", 1000), "messages drained from each MTA's queue (BENCH_MTA_N)")
	mtaRounds := flag.Int("mta-rounds", envInt("BENCH_MTA_ROUNDS", 3), "drains from each MTA, the MTAs taking turns; the table gives the median (BENCH_MTA_ROUNDS)")
	filterN := flag.Int("filter-n", envInt("BENCH_FILTER_N", 1000), "messages through the test stack's filter Postfix, with no filter and through qscan as its SMTP content filter (BENCH_FILTER_N; -filter-n 0: none)")
	filterEngines := flag.String("filter-engines", envOr("BENCH_FILTER_ENGINES", "builtin,clamd,amavisd,clamd+spamd,amavisd+sa"), "content filter runs, comma separated: qscan with builtin, clamd or clamd+spamd, and amavisd or amavisd+sa (amavisd-new with clamd, and SpamAssassin, when installed) (BENCH_FILTER_ENGINES)")
	filterSAN := flag.Int("filter-sa-n", envInt("BENCH_FILTER_SA_N", 300), "messages of the content filter runs with SpamAssassin (BENCH_FILTER_SA_N)")
	flag.IntVar(&filterReinject, "filter-reinject", envInt("BENCH_FILTER_REINJECT", 0), "[smtp] reinject_connections of the content filter runs (BENCH_FILTER_REINJECT; default the shipped value)")
	bin := flag.String("qscan", "bin/qscan", "qscan binary")
	corpus := flag.String("corpus", "../shared/corpus", "corpus directory (used when present)")
	flag.Parse()

	var err error
	b := &bench{bin: *bin, conc: max(*conc, 1), workers: *workers, report: *spamcReport, delay: *delay, direct: !*relay, alone: map[string]*row{}}
	if b.direct && b.delay > 0 {
		fail(fmt.Errorf("-engine-delay needs the relay (it holds the answers): not with -relay=false"))
	}
	sets := chooseEngines(b, *engines)
	pinned := ""
	if *engineCPUs != "" {
		if pinned, err = pin(b.st, *engineCPUs); err != nil {
			fail(err)
		}
	}
	root, err := os.MkdirTemp("", "qscan-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(root)
	b.root = root
	if w := fsWarning(root); w != "" {
		fmt.Fprintln(os.Stderr, "bench: warning:", w)
		b.notes = append(b.notes, "Warning: "+w+".")
	}
	msgs, source := loadMix(*corpus, *n, int64(envInt("BENCH_SEED", 1)))
	b.msgs = msgs
	if b.queued, err = asQueued(msgs); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "bench: %d messages from %s, %.1f MB; engine sets: %s\n", len(msgs), source, float64(totalBytes(msgs))/1e6, names(sets))

	if b.workers <= 0 {
		b.workers = b.conc
	}
	s := summary{when: time.Now(), source: source, conc: b.conc, workers: b.workers, delay: b.delay, direct: b.direct, pinned: pinned, load: [2]string{loadAvg("/proc/loadavg")}}
	s.floor, err = runFloor(filepath.Join(root, "floor"), msgs)
	if err != nil {
		fail(err)
	}
	for round := 1; round <= *rounds; round++ {
		for _, set := range sets {
			if r, ok := b.drain(set); ok {
				if *rounds > 1 {
					r.label += fmt.Sprintf(" (round %d)", round)
				}
				s.drains = append(s.drains, r)
			}
		}
	}
	if *bigN > 0 { // -big-n 0, -latency-n 0: skip those runs
		big, err := runBig(*bin, filepath.Join(root, "big"), *bigN, *bigMB<<20, b.conc)
		os.RemoveAll(filepath.Join(root, "big"))
		if err != nil {
			b.fail("memory run", err)
		} else {
			s.big = &row{label: fmt.Sprintf("memory: %d messages of %d MB (base64 random attachment), engines: builtin", *bigN, *bigMB), r: big}
		}
	}
	if *latN > 0 {
		lat, err := runLatency(*bin, filepath.Join(root, "latency"), msgs, *latN, *rate, b.conc)
		if err != nil {
			b.fail("latency run", err)
		} else {
			s.lat = &lat
		}
	}
	if *smtpN > 0 {
		lat, err := runSMTPLatency(*bin, filepath.Join(root, "smtp"), *smtpN, *smtpRate)
		if err != nil {
			b.fail("SMTP latency run", err)
		} else {
			s.smtpLat = &lat
		}
	}
	var shared *sharedResult
	if *sharedN > 0 {
		if dsn := sharedDSN(); dsn == "" {
			b.notes = append(b.notes, "Shared store: not measured (the test stack's postgresql is not running).")
		} else if r, err := runShared(filepath.Join(root, "shared"), dsn, *sharedN, 30); err != nil {
			b.fail("shared-store run", err)
		} else {
			shared = &r
		}
	}
	if *mtaSpec != "none" {
		mtas, notes := stackMTAs(*mtaSpec)
		b.notes = append(b.notes, notes...)
		s.mtas = runMTAs(*bin, root, mtas, *mtaN, *mtaRounds, *smtpN, *smtpRate)
		for _, r := range s.mtas {
			b.failed = b.failed || r.failed
		}
	}
	var filterRows []filterRow
	var filterNotes []string
	if *filterN > 0 {
		filterRows, filterNotes = runFilter(*bin, root, *filterN, *filterSAN, b.conc, strings.Split(*filterEngines, ","))
		for _, r := range filterRows {
			b.failed = b.failed || r.err != ""
		}
	}
	s.alone, s.notes = b.rows, b.notes
	s.load[1] = loadAvg("/proc/loadavg")
	report(os.Stdout, s)
	if shared != nil {
		reportShared(os.Stdout, *shared)
	}
	reportFilter(os.Stdout, filterRows, filterNotes, b.conc)
	unpin()
	if b.failed {
		os.RemoveAll(root)
		os.Exit(1)
	}
}

// chooseEngines parses the engine sets (or picks the default from the
// stack's state) and drops those whose daemons do not answer, with a note.
func chooseEngines(b *bench, spec string) []engineSet {
	st, err := probeStack()
	if err != nil {
		b.notes = append(b.notes, "test stack: "+firstLine(err.Error()))
	}
	b.st = st
	if spec == "" {
		spec = defaultEngines(func(d string) bool { return st.up[d] })
		for _, d := range []string{"clamd", "spamd"} {
			if !st.up[d] {
				b.notes = append(b.notes, d+" not reachable: its engine sets were left out (scripts/teststack start "+d+")")
			}
		}
	}
	sets, err := parseEngines(spec)
	if err != nil {
		fail(err)
	}
	sets, skipped := reachable(sets, st)
	b.notes = append(b.notes, skipped...)
	return sets
}

// unpin gives the engines back the CPUs they had (see pin).
var unpin = func() {}

// pin binds the engines that are up to the CPUs in list and the bench
// itself, and so qscan and every client it starts, to the other CPUs; it
// sets unpin and returns the binding for the report.
func pin(st stack, list string) (string, error) {
	n := runtime.NumCPU()
	set, err := parseCPUs(list, n)
	if err != nil {
		return "", fmt.Errorf("-engine-cpus: %w", err)
	}
	rest := others(set, n)
	if rest.Count() == 0 {
		return "", fmt.Errorf("-engine-cpus %s: no CPU left for qscan", list)
	}
	var restores []func()
	unpin = func() {
		for _, r := range restores {
			r()
		}
		restores = nil
	}
	var bound []string
	for _, d := range []string{"clamd", "spamd"} {
		if !st.up[d] {
			continue
		}
		r, err := pinDaemon(st.pidFile(d), set)
		if err != nil {
			unpin()
			return "", fmt.Errorf("-engine-cpus: %s: %w", d, err)
		}
		restores = append(restores, r)
		bound = append(bound, d)
	}
	if len(bound) == 0 {
		return "", fmt.Errorf("-engine-cpus: no engine of the stack is up")
	}
	if err := pinTasks(tasks("/proc", os.Getpid()), rest); err != nil {
		unpin()
		return "", fmt.Errorf("-engine-cpus: the bench: %w", err)
	}
	return fmt.Sprintf("%s bound to CPU %s, the bench, qscan and the engines' clients to CPU %s", strings.Join(bound, " and "), cpuList(set, n), cpuList(rest, n)), nil
}

func names(sets []engineSet) string {
	s := ""
	for i, e := range sets {
		if i > 0 {
			s += ","
		}
		s += e.name
	}
	return s
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envDuration(name string) time.Duration {
	d, err := time.ParseDuration(os.Getenv(name))
	if err != nil || d < 0 {
		return 0
	}
	return d
}

func fail(err error) {
	unpin()
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// progress draws a one-line progress bar on stderr.
func progress(label string, done, total int, start time.Time) {
	const width = 30
	filled := width * done / max(total, 1)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(os.Stderr, "\r%-10s [%s] %5d/%d %6.1fs", label, bar, done, total, time.Since(start).Seconds())
	if done >= total {
		fmt.Fprintln(os.Stderr)
	}
}
