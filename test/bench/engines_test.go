package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/config"
)

func TestParseEngines(t *testing.T) {
	tests := []struct {
		in   string
		want []engineSet
	}{
		{"none", []engineSet{{name: "none"}}},
		{"none,builtin,clamd,clamd+spamd", []engineSet{
			{name: "none"},
			{name: "builtin", virus: []string{"builtin"}},
			{name: "clamd", virus: []string{"clamd"}},
			{name: "clamd+spamd", virus: []string{"clamd"}, spam: []string{"spamd"}},
		}},
		{" builtin+clamd , spamd ", []engineSet{
			{name: "builtin+clamd", virus: []string{"builtin", "clamd"}},
			{name: "spamd", spam: []string{"spamd"}},
		}},
	}
	for _, tt := range tests {
		got, err := parseEngines(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseEngines(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseEnginesErrors(t *testing.T) {
	for _, in := range []string{"", ",", "clamav", "none+clamd", "clamd+clamd", "none,none", "clamd,+"} {
		if got, err := parseEngines(in); err == nil {
			t.Errorf("parseEngines(%q) = %+v, want an error", in, got)
		}
	}
}

func TestDefaultEngines(t *testing.T) {
	tests := []struct {
		up   []string
		want string
	}{
		{nil, "none,builtin"},
		{[]string{"spamd"}, "none,builtin"},
		{[]string{"clamd"}, "none,builtin,clamd"},
		{[]string{"clamd", "spamd"}, "none,builtin,clamd,clamd+spamd"},
	}
	for _, tt := range tests {
		if got := defaultEngines(func(d string) bool { return slices.Contains(tt.up, d) }); got != tt.want {
			t.Errorf("defaultEngines(up %v) = %q, want %q", tt.up, got, tt.want)
		}
	}
}

func TestReachable(t *testing.T) {
	sets, err := parseEngines("none,builtin,clamd,clamd+spamd,spamd")
	if err != nil {
		t.Fatal(err)
	}
	ok, notes := reachable(sets, stack{up: map[string]bool{"clamd": true}})
	if got, want := names(ok), "none,builtin,clamd"; got != want {
		t.Errorf("reachable sets = %q, want %q", got, want)
	}
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "clamd+spamd skipped: spamd not reachable") {
		t.Errorf("reachable notes = %q, want two, the first on clamd+spamd", notes)
	}
}

// TestConfigLoads checks that qscan's own loader accepts every bench
// configuration and reads back the engines, addresses and concurrency.
func TestConfigLoads(t *testing.T) {
	sets, err := parseEngines("none,builtin,clamd,clamd+spamd")
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		root := t.TempDir()
		p, err := writeConfig(root, drainConfig{set: set, clamd: "127.0.0.1:3999", spamd: "127.0.0.1:8999", conc: 3})
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(p)
		if err != nil {
			t.Fatalf("%s: config.Load: %v\n%s", set.name, err, benchConfig(drainConfig{set: set}).Text())
		}
		if !equalList(c.Virus.Scanners, set.virus) || !equalList(c.Spam.Engines, set.spam) {
			t.Errorf("%s: scanners %q, spam engines %q; want %q, %q", set.name, c.Virus.Scanners, c.Spam.Engines, set.virus, set.spam)
		}
		if n := c.Notify; c.Batch.Workers != 3 || n.SenderBlocked || n.SenderViruses || n.SenderOther {
			t.Errorf("%s: workers %d, sender notices %+v; want 3, all off", set.name, c.Batch.Workers, n)
		}
		if set.uses("clamd") && (c.Virus.Clamd.Address != "127.0.0.1:3999" || c.Virus.Clamd.Socket != "" || c.Virus.Clamd.MaxConnections != 3) {
			t.Errorf("%s: [virus.clamd] = %+v", set.name, c.Virus.Clamd)
		}
		if set.uses("spamd") && (c.Spam.Spamd.Address != "127.0.0.1:8999" || c.Spam.Spamd.MaxConnections != 3) {
			t.Errorf("%s: [spam.spamd] = %+v", set.name, c.Spam.Spamd)
		}
		for _, d := range []string{"in", "out", "quarantine"} {
			if st, err := os.Stat(filepath.Join(root, d)); err != nil || !st.IsDir() {
				t.Errorf("%s: directory %s missing: %v", set.name, d, err)
			}
		}
	}
}

func equalList(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }
