package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReportFilter: the table splits each row's CPU per message into the
// filter's, Postfix's, the sink's and submitters', and the rest; the note
// gives the ratio a free filter would reach from the rest of the work.
func TestReportFilter(t *testing.T) {
	cpus := float64(runtime.NumCPU())
	rows := []filterRow{
		{label: "Postfix, no filter", n: 1000, got: 1000, wall: 5 * time.Second, mcpu: 10 * time.Second,
			groups: cpuGroups{postfix: 6 * time.Second, sink: 2 * time.Second, bench: time.Second}},
		{label: "Postfix → qscan → Postfix", engine: "builtin", n: 1000, got: 1010, wall: 10 * time.Second, mcpu: time.Duration(10*cpus) * time.Second,
			cpu: 4 * time.Second, groups: cpuGroups{postfix: 12 * time.Second, sink: 2 * time.Second, bench: time.Second}},
	}
	var b strings.Builder
	reportFilter(&b, rows, nil, 4)
	out := b.String()
	rest := 10*cpus - 4 - 12 - 3
	for _, want := range []string{
		"| Postfix, no filter | – | 1000 | 1000 | 5.00 | 200 | 1.00 | – | 10.0 | 0.0 / 6.0 / 3.0 / 1.0 |",
		fmt.Sprintf("| Postfix → qscan → Postfix | builtin | 1000 | 1010 | 10.00 | 100 | 0.50 | 4.00 | %.1f | 4.0 / 12.0 / 3.0 / %.1f |", 10*cpus, rest),
		fmt.Sprintf("builtin: at most %.2f× (the CPUs 100 %% busy)", 10/(10*cpus-4)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestAmavisNote: qscan's rows are set against amavisd-new's of the same
// kind, without and with SpamAssassin.
func TestAmavisNote(t *testing.T) {
	rows := []filterRow{
		{label: "Postfix, no filter", n: 1000, wall: 5 * time.Second},
		{engine: "clamd", n: 1000, wall: 10 * time.Second, mcpu: 20 * time.Second},
		{engine: "clamd", amavis: true, n: 1000, wall: 25 * time.Second, mcpu: 30 * time.Second},
		{engine: "clamd", spam: true, n: 300, wall: 20 * time.Second, mcpu: 33 * time.Second},
		{engine: "clamd", spam: true, amavis: true, n: 300, wall: 30 * time.Second, mcpu: 30 * time.Second},
	}
	got := amavisNote(rows)
	for _, want := range []string{"without SpamAssassin (goal 5×) 2.50× its rate (100 against 40 msg/s), 20.0 against 30.0 ms",
		"with SpamAssassin (goal above 1×) 1.50× its rate (15 against 10 msg/s), 110.0 against 100.0 ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("note lacks %q:\n%s", want, got)
		}
	}
	if amavisNote(rows[:2]) != "" {
		t.Error("a note without amavisd-new's rows")
	}
}
