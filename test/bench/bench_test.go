package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBigMessage(t *testing.T) {
	for _, size := range []int{4 << 10, 1 << 20} {
		m := bigMessage(rand.New(rand.NewPCG(1, 2)), 7, size)
		if len(m) > size || len(m) < size-100 {
			t.Errorf("bigMessage(%d) is %d bytes", size, len(m))
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		var parts, attached int
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("bigMessage(%d) part %d: %v", size, parts, err)
			}
			parts++
			if p.FileName() == "big7.bin" {
				b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
				if err != nil {
					t.Fatalf("bigMessage(%d): attachment: %v", size, err)
				}
				attached = len(b)
			}
		}
		if want := (size - 600) * 57 / 77; parts != 2 || attached < want {
			t.Errorf("bigMessage(%d): %d parts, %d attached bytes; want 2 parts, most of the size attached", size, parts, attached)
		}
	}
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	if a, b := bigMessage(r1, 1, 8<<10), bigMessage(r1, 2, 8<<10); bytes.Equal(a[300:], b[300:]) {
		t.Error("two big messages from one generator have the same attachment")
	}
	if a, b := bigMessage(r2, 1, 8<<10), bigMessage(rand.New(rand.NewPCG(1, 2)), 1, 8<<10); !bytes.Equal(a, b) {
		t.Error("bigMessage is not reproducible from its seed")
	}
}

// TestLoadMixUnique checks that no two messages are the same bytes (the
// spam cache would answer for spamd) and that a few carry EICAR.
func TestLoadMixUnique(t *testing.T) {
	msgs, source := loadMix(t.TempDir(), 600, 1)
	if !strings.HasPrefix(source, "generated mix") {
		t.Errorf("loadMix source = %q, want the generated mix", source)
	}
	seen := map[string]bool{}
	eicars := 0
	for _, m := range msgs {
		if seen[string(m)] {
			t.Fatalf("loadMix: a message appears twice:\n%.200s", m)
		}
		seen[string(m)] = true
		if bytes.Contains(m, []byte("EICAR-STANDARD")) {
			eicars++
		}
		if !bytes.HasPrefix(m, []byte("X-Bench-Seq: ")) {
			t.Fatalf("loadMix: message without its sequence header:\n%.200s", m)
		}
	}
	if eicars < 6 || eicars > 40 {
		t.Errorf("loadMix: %d of 600 carry EICAR, want about 3 %%", eicars)
	}
}

func TestTableRow(t *testing.T) {
	r := result{msgs: 100, bytes: 2e6, wall: 2 * time.Second, cpu: 1500 * time.Millisecond, maxRSS: 20480, sent: 3e6, engCPU: time.Second, inFlight: "clamd 3.5"}
	tests := []struct {
		row  row
		want string
	}{
		{row{label: "qscan", r: r, alone: 100},
			"| qscan | 2.00 | 50 | 1.0 | 1.50 | 20.0 | 3.0 | 1.00 | clamd 3.5 | 100 | 0.500 (below 0.90) |"},
		{row{label: "qscan", r: r, alone: 55.8}, // 0.896: not shown as 0.90
			"| qscan | 2.00 | 50 | 1.0 | 1.50 | 20.0 | 3.0 | 1.00 | clamd 3.5 | 56 | 0.896 (below 0.90) |"},
		{row{label: "qscan", r: r, alone: 52},
			"| qscan | 2.00 | 50 | 1.0 | 1.50 | 20.0 | 3.0 | 1.00 | clamd 3.5 | 52 | 0.962 |"},
		{row{label: "floor", r: result{msgs: 100, bytes: 2e6, wall: time.Second, cpu: time.Second, sent: -1, engCPU: -1}},
			"| floor | 1.00 | 100 | 2.0 | 1.00 | – | – | – | – | – | – |"},
	}
	for _, tt := range tests {
		if got := tableRow(tt.row); got != tt.want {
			t.Errorf("tableRow(%+v) =\n%s\nwant\n%s", tt.row, got, tt.want)
		}
	}
}

func TestPace(t *testing.T) {
	alone := map[string]*row{"clamd": {r: result{wall: 2 * time.Second, reqs: map[string]int64{"clamd": 1000}}}}
	r := result{wall: 4 * time.Second, reqs: map[string]int64{"clamd": 1800}}
	got := pace(engineSet{name: "clamd+spamd", virus: []string{"clamd"}, spam: []string{"spamd"}}, r, alone)
	if len(got) != 1 || got["clamd"] != 0.9 {
		t.Errorf("pace = %v, want clamd 0.9 (450 requests/s against 500) and nothing for spamd (not measured alone)", got)
	}
}

func TestReportNotes(t *testing.T) {
	floor := result{msgs: 10, bytes: 1000, wall: time.Second, sent: -1, engCPU: -1}
	s := summary{when: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), source: "mix", conc: 4, floor: floor,
		drains: []row{{label: "qscan run --once, engines: none", r: result{msgs: 10, bytes: 1000, wall: 2 * time.Second, sent: -1, engCPU: -1}},
			{label: "qscan run --once, engines: clamd", r: result{msgs: 10, bytes: 1000, wall: 4 * time.Second, sent: 2000, engCPU: 3 * time.Second, engCPUBy: map[string]time.Duration{"clamd": 3 * time.Second}, reqs: map[string]int64{"clamd": 12}}, alone: 20,
				pace: map[string]float64{"clamd": 0.6}, busy: map[string]float64{"clamd": 0.8}, busyMid: map[string]float64{"clamd": 0.85}}},
		notes: []string{"clamd+spamd skipped: spamd not reachable"}, load: [2]string{"0.50", "1.25"}}
	var b bytes.Buffer
	report(&b, s)
	out := b.String()
	for _, want := range []string{"## qscan bench — 2026-01-02 03:04 UTC", "load average 0.50 at the start, 1.25 at the end", "| floor: read qf", "| qscan run --once, engines: none | 2.00 | 5 |",
		"runs at 0.50× the floor", "- clamd+spamd skipped: spamd not reachable",
		"engines: clamd: clamd answered 12 requests for 10 messages at 0.60× the request rate it kept up for its own client",
		"engines: clamd: clamd was on the CPU 0.75 of the run, 0.800 of the share it kept with its own client: how busy qscan kept it (goal 0.90); over the middle of the runs (from a tenth of the messages done to nine tenths, without qscan's start and last commit) 0.850; it shares the CPUs with qscan here (see -engine-cpus).",
		"engines: clamd: the engine alone (20 msg/s) is faster than qscan's pass-through drain (5 msg/s), so the ratio cannot pass 0.25 here; the share of the pass-through speed kept with the engine is 0.50."} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Pick-up latency") || strings.Contains(out, "memory:") {
		t.Errorf("report shows runs that did not happen:\n%s", out)
	}
	s.pinned = "clamd bound to CPU 0, the bench, qscan and the engines' clients to CPU 1"
	b.Reset()
	report(&b, s)
	out = b.String()
	if !strings.Contains(out, "at once; clamd bound to CPU 0, the bench") || strings.Contains(out, "see -engine-cpus") || !strings.Contains(out, "(see -relay=false).") {
		t.Errorf("report of a run with the engines bound: want the binding in the header, no hint to bind them, a hint about the relay:\n%s", out)
	}
	s.direct = true
	b.Reset()
	report(&b, s)
	if out = b.String(); !strings.Contains(out, "at once; no relay: every client talks to the engines directly; clamd bound") || strings.Contains(out, "see -relay=false") {
		t.Errorf("report of a run without relay: want it said in the header:\n%s", out)
	}
}

// TestProxyCutsIdle checks that close does not wait for ever on a client
// that keeps its connection open.
func TestProxyCutsIdle(t *testing.T) {
	_, p := relayedFake(t, 0)
	p.grace = 50 * time.Millisecond
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("zPI"))
	time.Sleep(20 * time.Millisecond)
	done := make(chan int64)
	go func() { done <- p.close() }()
	select {
	case n := <-done:
		if n != 3 {
			t.Errorf("proxy close counted %d bytes, want 3", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("proxy close hangs on an idle client")
	}
}

func TestLoadAvg(t *testing.T) {
	p := filepath.Join(t.TempDir(), "loadavg")
	os.WriteFile(p, []byte("10.36 12.87 9.48 5/311 29082\n"), 0o644)
	if got := loadAvg(p); got != "10.36" {
		t.Errorf("loadAvg = %q, want 10.36", got)
	}
	if got := loadAvg(p + ".missing"); got != "" {
		t.Errorf("loadAvg(missing) = %q, want empty", got)
	}
}

// The engine-alone clients scan the messages as qscan reads them from
// the queue: sendmail's Return-Path first, then the header and body.
func TestAsQueued(t *testing.T) {
	raw := []byte("From: a@example.org\nSubject: x\n\nbody\n")
	q, err := asQueued([][]byte{raw})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Return-Path: <bench@example.org>\n" + string(raw); string(q[0]) != want {
		t.Errorf("asQueued = %q, want %q", q[0], want)
	}
}

func TestBusy(t *testing.T) {
	alone := map[string]*row{"clamd": {r: result{wall: 2 * time.Second, engCPUBy: map[string]time.Duration{"clamd": 1800 * time.Millisecond}}}}
	r := result{wall: 4 * time.Second, engCPUBy: map[string]time.Duration{"clamd": 3 * time.Second, "spamd": time.Second}}
	got := busy(engineSet{name: "clamd+spamd", virus: []string{"clamd"}, spam: []string{"spamd"}}, r, alone, wholeRun)
	if len(got) != 1 || got["clamd"] < 0.8333 || got["clamd"] > 0.8334 {
		t.Errorf("busy = %v, want clamd 0.833 (on the CPU 0.75 of the run against 0.90) and nothing for spamd (not measured alone)", got)
	}
	if got := busy(engineSet{name: "clamd", virus: []string{"clamd"}}, r, alone, middle); len(got) != 0 {
		t.Errorf("busy over the middle without middles = %v, want nothing", got)
	}
	alone["clamd"].r.mid = &span{wall: time.Second, cpu: map[string]time.Duration{"clamd": time.Second}}
	r.mid = &span{wall: 2 * time.Second, cpu: map[string]time.Duration{"clamd": 1900 * time.Millisecond}}
	if got := busy(engineSet{name: "clamd", virus: []string{"clamd"}}, r, alone, middle); len(got) != 1 || got["clamd"] != 0.95 {
		t.Errorf("busy over the middle = %v, want clamd 0.95 (on the CPU 0.95 of the middle against 1)", got)
	}
}

// merged: two runs of a client count as one run of both: 300 messages in
// 3 s at 1.5 s of CPU.
func TestMerged(t *testing.T) {
	x := &row{label: "before", r: result{msgs: 100, wall: time.Second, reqs: map[string]int64{"clamd": 100}, engCPUBy: map[string]time.Duration{"clamd": time.Second}}}
	y := &row{label: "after", r: result{msgs: 200, wall: 2 * time.Second, reqs: map[string]int64{"clamd": 200}, engCPUBy: map[string]time.Duration{"clamd": 500 * time.Millisecond}}}
	m := merged(x, y)
	if m.r.rate() != 100 || m.r.reqs["clamd"] != 300 || m.r.engCPUBy["clamd"] != 1500*time.Millisecond {
		t.Errorf("merged = %.0f msg/s, %d requests, %s CPU; want 100, 300, 1.5s", m.r.rate(), m.r.reqs["clamd"], m.r.engCPUBy["clamd"])
	}
	if x.r.reqs["clamd"] != 100 || x.r.engCPUBy["clamd"] != time.Second {
		t.Error("merged changed its first run")
	}
	if m.r.mid != nil {
		t.Errorf("merged runs without middles has a middle: %+v", m.r.mid)
	}
	x.r.mid = &span{wall: time.Second, cpu: map[string]time.Duration{"clamd": time.Second}}
	y.r.mid = &span{wall: time.Second, cpu: map[string]time.Duration{"clamd": time.Second}}
	if m := merged(x, y); m.r.mid == nil || m.r.mid.wall != 2*time.Second || m.r.mid.cpu["clamd"] != 2*time.Second {
		t.Errorf("merged middle = %+v, want both middles added", m.r.mid)
	}
	if merged(x, nil) != x || merged(nil, y) != y || merged(nil, nil) != nil {
		t.Error("merged with a missing run: want the other one (or nil)")
	}
}

// With rounds, each engine set gets the median and range of its rounds;
// a set drained once gets nothing.
func TestRoundsNotes(t *testing.T) {
	drain := func(label string, rate, alone, busy float64) row {
		return row{label: "qscan run --once, engines: " + label, r: result{msgs: int(rate), wall: time.Second},
			alone: alone, busy: map[string]float64{"clamd": busy}, busyMid: map[string]float64{"clamd": busy + 0.01}}
	}
	got := roundsNotes([]row{
		drain("clamd (round 1)", 80, 100, 0.9),
		drain("none", 500, 0, 0),
		drain("clamd (round 2)", 90, 100, 0.8),
		drain("clamd (round 3)", 70, 100, 0.95),
		drain("builtin (round 1)", 400, 0, 0),
	})
	want := []string{"engines: clamd over 3 rounds: qscan / engine median 0.800 (0.700–0.900); clamd busy share median 0.900 (0.800–0.950); clamd busy share over the middle of the runs median 0.910 (0.810–0.960)."}
	if !slices.Equal(got, want) {
		t.Errorf("roundsNotes =\n%q\nwant\n%q", got, want)
	}
	if got := spread([]float64{0.4, 0.1, 0.3, 0.2}); got != "median 0.250 (0.100–0.400)" {
		t.Errorf("spread of four = %s, want median 0.250 (0.100–0.400)", got)
	}
}
