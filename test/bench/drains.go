package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bench runs the drains of every engine set and, beside them, the engines
// alone on the same messages.
type bench struct {
	bin, root string
	msgs      [][]byte
	queued    [][]byte // msgs as qscan reads them from the queue (asQueued)
	st        stack
	conc      int
	workers   int             // qscan's [batch] workers
	delay     time.Duration   // added to each engine answer by the relays
	direct    bool            // no relays: clients connect to the engines
	report    bool            // spamc asks for the full report (-R) instead of -c
	alone     map[string]*row // by daemon: the row giving its speed alone
	rows      []row           // engine-alone rows, in the order measured
	notes     []string
	failed    bool
}

// row is one line of the table.
type row struct {
	label string
	r     result
	// alone is the speed, msg/s, of the slowest engine of the set alone;
	// 0 when the set has no external engine.
	alone float64
	// pace is, per engine, the requests per second the engine answered
	// for qscan over those it answered for its own client: how busy qscan
	// kept it, whatever the number of requests per message.
	pace map[string]float64
	// busy is, per engine, its CPU time over the run's wall time for qscan
	// over the same for its own client: how busy qscan kept it, however
	// much work each request was.
	busy map[string]float64
	// busyMid is busy over the middle of the runs (see midMeter).
	busyMid map[string]float64
}

func (r result) rate() float64 { return float64(r.msgs) / r.wall.Seconds() }

// measure runs fn with a counting relay in front of each daemon, passing
// fn the relays' addresses and a meter of the middle of its run, and
// meters the daemons' CPU. With b.direct fn gets the daemons' own
// addresses and only their CPU is metered.
func (b *bench) measure(daemons []string, fn func(addr map[string]string, mid *midMeter) (result, error)) (result, error) {
	addr := map[string]string{}
	var relays []*proxy
	defer func() {
		for _, p := range relays {
			p.close()
		}
	}()
	for _, d := range daemons {
		target, term := b.st.clamd, 0 // clamd's z-commands end their answers with a NUL
		if d == "spamd" {
			target, term = b.st.spamd, -1
		}
		if b.direct {
			addr[d] = target
			continue
		}
		p, err := newProxy(target, term)
		if err != nil {
			return result{}, fmt.Errorf("relay to %s: %w", d, err)
		}
		p.delay = b.delay
		relays = append(relays, p)
		addr[d] = p.addr()
	}
	meter := startCPU(b.st, daemons)
	var mid *midMeter
	if len(daemons) > 0 {
		mid = newMid(len(b.msgs), meter.read)
	}
	r, err := fn(addr, mid)
	if err != nil || len(daemons) == 0 {
		return r, err
	}
	r.mid = mid.span()
	if len(relays) > 0 {
		r.sent = 0
		r.reqs = map[string]int64{}
		var flight []string
		for i, p := range relays {
			r.sent += p.close()
			r.reqs[daemons[i]] = p.answered()
			flight = append(flight, fmt.Sprintf("%s %.1f of %d, none %.0f%% of the run", daemons[i], p.requestTime().Seconds()/r.wall.Seconds(), p.answered(), 100*(1-p.engaged().Seconds()/r.wall.Seconds())))
		}
		r.inFlight = strings.Join(flight, ", ")
		relays = nil
	}
	r.engCPU, r.engCPUBy = meter.stop()
	return r, nil
}

// fail records a run that did not work; the bench goes on with the others.
func (b *bench) fail(what string, err error) {
	b.failed = true
	b.notes = append(b.notes, fmt.Sprintf("%s failed: %s", what, firstLine(err.Error())))
	fmt.Fprintf(os.Stderr, "bench: %s: %v\n", what, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// measureAlone measures a daemon on its own the first time it is asked
// for: clamd with whole messages over zINSTREAM (and clamdscan --stream,
// for reference), spamd with spamc.
func (b *bench) measureAlone(d string) {
	if _, done := b.alone[d]; done {
		return
	}
	b.alone[d] = b.primary(d, "")
	if d == "clamd" {
		b.one(d, fmt.Sprintf("clamd alone: clamdscan --stream, %d processes", b.conc), func(a string, _ *midMeter) (result, error) {
			return clamdscanAlone(filepath.Join(b.root, "clamdscan"), a, b.queued, b.conc)
		})
	}
}

// primary runs the client whose speed qscan is compared with (clamd:
// zINSTREAM; spamd: spamc), with note added to its label; nil when it
// failed.
func (b *bench) primary(d, note string) *row {
	switch d {
	case "clamd":
		return b.one(d, fmt.Sprintf("clamd alone: zINSTREAM of whole messages, %d connections%s", b.conc, note), func(a string, mid *midMeter) (result, error) {
			return clamdAlone(a, b.queued, b.conc, mid)
		})
	case "spamd":
		flag := "-c"
		if b.report {
			flag = "-R"
		}
		return b.one(d, fmt.Sprintf("spamd alone: spamc %s, %d processes at once%s", flag, b.conc, note), func(a string, mid *midMeter) (result, error) {
			return spamcAlone(a, b.queued, b.conc, b.report, mid)
		})
	}
	return nil
}

// one measures a client of daemon d alone and adds its row.
func (b *bench) one(d, label string, fn func(addr string, mid *midMeter) (result, error)) *row {
	r, err := b.measure([]string{d}, func(addr map[string]string, mid *midMeter) (result, error) { return fn(addr[d], mid) })
	if err != nil {
		b.fail(label, err)
		return nil
	}
	b.rows = append(b.rows, row{label: label, r: r})
	return &row{label: label, r: r}
}

// drain measures qscan with one engine set between two runs of each of its
// engines alone (the run before is the last one of the drain before, if
// any), so that a change of the machine's speed during the drain shows and
// weighs on both sides alike.
func (b *bench) drain(set engineSet) (row, bool) {
	before := map[string]*row{}
	for _, d := range set.daemons() {
		b.measureAlone(d)
		before[d] = b.alone[d]
	}
	root := filepath.Join(b.root, "drain-"+strings.ReplaceAll(set.name, "+", "-"))
	r, err := b.measure(set.daemons(), func(addr map[string]string, mid *midMeter) (result, error) {
		return runDrain(b.bin, root, b.msgs, drainConfig{set: set, clamd: addr["clamd"], spamd: addr["spamd"], conc: b.conc, workers: b.workers}, mid)
	})
	os.RemoveAll(root)
	if err != nil {
		b.fail("qscan with "+set.name, err)
		return row{}, false
	}
	alone, both := 0.0, map[string]*row{}
	for _, d := range set.daemons() {
		after := b.primary(d, ", again after qscan with "+set.name)
		if after != nil {
			b.alone[d] = after
		}
		a := merged(before[d], after)
		if a == nil {
			continue
		}
		both[d] = a
		if alone == 0 || a.r.rate() < alone {
			alone = a.r.rate()
		}
		if before[d] != nil && after != nil {
			x, y := before[d].r.rate(), after.r.rate()
			if math.Abs(x-y) > 0.1*(x+y)/2 {
				b.notes = append(b.notes, fmt.Sprintf("%s alone ran at %.0f msg/s before qscan with %s and %.0f after: the machine's speed changed by more than 10 %% during these runs, so the msg/s ratio of that row is uncertain (it compares with both runs, %.0f msg/s); the busy share is steadier.", d, x, set.name, y, a.r.rate()))
			}
		}
	}
	return row{label: "qscan run --once, engines: " + set.name, r: r, alone: alone, pace: pace(set, r, both), busy: busy(set, r, both, wholeRun), busyMid: busy(set, r, both, middle)}, true
}

// merged adds up two runs of the same client (either may be nil): their
// rate and shares are those of the two together.
func merged(x, y *row) *row {
	if x == nil || y == nil {
		if x != nil {
			return x
		}
		return y
	}
	r := x.r
	r.msgs += y.r.msgs
	r.wall += y.r.wall
	r.mid = x.r.mid.plus(y.r.mid)
	r.reqs, r.engCPUBy = map[string]int64{}, map[string]time.Duration{}
	for _, m := range []result{x.r, y.r} {
		for k, v := range m.reqs {
			r.reqs[k] += v
		}
		for k, v := range m.engCPUBy {
			r.engCPUBy[k] += v
		}
	}
	return &row{label: x.label, r: r}
}

// pace compares the request rate each engine of the set kept up for qscan
// with the rate it kept up alone.
func pace(set engineSet, r result, alone map[string]*row) map[string]float64 {
	out := map[string]float64{}
	for _, d := range set.daemons() {
		a := alone[d]
		if a == nil || a.r.reqs[d] == 0 || r.reqs[d] == 0 {
			continue
		}
		out[d] = (float64(r.reqs[d]) / r.wall.Seconds()) / (float64(a.r.reqs[d]) / a.r.wall.Seconds())
	}
	return out
}

// busy compares the share of a stretch of the run (of: the whole run or
// its middle) each engine of the set spent on the CPU for qscan with the
// share it spent for its own client.
func busy(set engineSet, r result, alone map[string]*row, of func(result) *span) map[string]float64 {
	out := map[string]float64{}
	q := of(r)
	for _, d := range set.daemons() {
		if alone[d] == nil || q == nil {
			continue
		}
		a := of(alone[d].r)
		if a == nil || q.cpu[d] <= 0 || a.cpu[d] <= 0 {
			continue
		}
		out[d] = (q.cpu[d].Seconds() / q.wall.Seconds()) / (a.cpu[d].Seconds() / a.wall.Seconds())
	}
	return out
}

// wholeRun is the engines' CPU over the whole run.
func wholeRun(r result) *span { return &span{wall: r.wall, cpu: r.engCPUBy} }

// middle is the engines' CPU over the middle of the run (see midMeter).
func middle(r result) *span { return r.mid }
