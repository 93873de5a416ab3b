package main

import (
	"fmt"
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
}

func (r result) rate() float64 { return float64(r.msgs) / r.wall.Seconds() }

// measure runs fn with a counting relay in front of each daemon, passing
// fn the relays' addresses, and meters the daemons' CPU.
func (b *bench) measure(daemons []string, fn func(addr map[string]string) (result, error)) (result, error) {
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
		p, err := newProxy(target, term)
		if err != nil {
			return result{}, fmt.Errorf("relay to %s: %w", d, err)
		}
		p.delay = b.delay
		relays = append(relays, p)
		addr[d] = p.addr()
	}
	meter := startCPU(b.st, daemons)
	r, err := fn(addr)
	if err != nil || len(daemons) == 0 {
		return r, err
	}
	r.sent = 0
	r.reqs = map[string]int64{}
	var flight []string
	for i, p := range relays {
		r.sent += p.close()
		r.reqs[daemons[i]] = p.answered()
		flight = append(flight, fmt.Sprintf("%s %.1f of %d", daemons[i], p.requestTime().Seconds()/r.wall.Seconds(), p.answered()))
	}
	r.inFlight = strings.Join(flight, ", ")
	relays = nil
	r.engCPU = meter.stop()
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

// measureAlone measures a daemon on its own once: clamd with whole
// messages over zINSTREAM (and clamdscan --stream, for reference), spamd
// with spamc.
func (b *bench) measureAlone(d string) {
	if _, done := b.alone[d]; done {
		return
	}
	b.alone[d] = nil
	one := func(label string, fn func(addr string) (result, error)) *row {
		r, err := b.measure([]string{d}, func(addr map[string]string) (result, error) { return fn(addr[d]) })
		if err != nil {
			b.fail(label, err)
			return nil
		}
		b.rows = append(b.rows, row{label: label, r: r})
		return &b.rows[len(b.rows)-1]
	}
	switch d {
	case "clamd":
		zr := one(fmt.Sprintf("clamd alone: zINSTREAM of whole messages, %d connections", b.conc), func(a string) (result, error) {
			return clamdAlone(a, b.queued, b.conc)
		})
		one(fmt.Sprintf("clamd alone: clamdscan --stream, %d processes", b.conc), func(a string) (result, error) {
			return clamdscanAlone(filepath.Join(b.root, "clamdscan"), a, b.queued, b.conc)
		})
		if zr != nil {
			b.alone[d] = &row{label: zr.label, r: zr.r}
		}
	case "spamd":
		flag := "-c"
		if b.report {
			flag = "-R"
		}
		if sr := one(fmt.Sprintf("spamd alone: spamc %s, %d processes at once", flag, b.conc), func(a string) (result, error) {
			return spamcAlone(a, b.queued, b.conc, b.report)
		}); sr != nil {
			b.alone[d] = &row{label: sr.label, r: sr.r}
		}
	}
}

// drain measures qscan with one engine set, after its engines alone.
func (b *bench) drain(set engineSet) (row, bool) {
	alone := 0.0
	for _, d := range set.daemons() {
		b.measureAlone(d)
		if a := b.alone[d]; a != nil && (alone == 0 || a.r.rate() < alone) {
			alone = a.r.rate()
		}
	}
	root := filepath.Join(b.root, "drain-"+strings.ReplaceAll(set.name, "+", "-"))
	r, err := b.measure(set.daemons(), func(addr map[string]string) (result, error) {
		return runDrain(b.bin, root, b.msgs, drainConfig{set: set, clamd: addr["clamd"], spamd: addr["spamd"], conc: b.conc, workers: b.workers})
	})
	os.RemoveAll(root)
	if err != nil {
		b.fail("qscan with "+set.name, err)
		return row{}, false
	}
	return row{label: "qscan run --once, engines: " + set.name, r: r, alone: alone, pace: b.pace(set, r)}, true
}

// pace compares the request rate each engine of the set kept up for qscan
// with the rate it kept up alone.
func (b *bench) pace(set engineSet, r result) map[string]float64 {
	out := map[string]float64{}
	for _, d := range set.daemons() {
		a := b.alone[d]
		if a == nil || a.r.reqs[d] == 0 || r.reqs[d] == 0 {
			continue
		}
		out[d] = (float64(r.reqs[d]) / r.wall.Seconds()) / (float64(a.r.reqs[d]) / a.r.wall.Seconds())
	}
	return out
}
