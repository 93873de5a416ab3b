package ruleset

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRuleset parses arbitrary ruleset bytes and evaluates what parses
// against a message built from the same fuzz input. Seeds: the golden
// rulesets plus testdata/fuzz/FuzzParseRuleset.
func FuzzParseRuleset(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.rules")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, "a@example.com", "b@example.org", "10.1.2.3")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, from, to, client string) {
		opt := Options{MaxRules: 200, MaxLineLength: 512, MaxFileSize: 64 << 10}
		rs, err := Parse("f.rules", data, opt)
		lines := strings.Count(string(data), "\n") + 1
		if err != nil {
			checkErrors(t, err, lines)
			return
		}
		addr, _ := netip.ParseAddr(client)
		m := Msg{From: from, To: strings.Split(to, ","), ClientIP: addr,
			Virus: []string{to}, ClientHost: from, HostVerified: len(from)%2 == 0}
		v, at, ok := rs.Explain(m)
		if v2, ok2 := rs.Value(m); v2 != v || ok2 != ok {
			t.Fatalf("Value = %q, %v; Explain = %q, %v", v2, ok2, v, ok)
		}
		if ok {
			n, err := strconv.Atoi(strings.TrimPrefix(at, "f.rules:"))
			if err != nil || n < 1 || n > lines || v == "" {
				t.Fatalf("Explain = %q at %q: not a line of the file or empty value", v, at)
			}
		}
		all := rs.All(m)
		if ok != (len(all) > 0) {
			t.Fatalf("Explain ok=%v but All = %q", ok, all)
		}
		if ok && all[0] != v {
			// The first matching rule is the first value of All; the
			// default only shows up when nothing else matches.
			t.Fatalf("All[0] = %q, Value = %q", all[0], v)
		}
		per := rs.PerRecipient(m)
		if len(per) != len(m.To) {
			t.Fatalf("PerRecipient: %d values for %d recipients", len(per), len(m.To))
		}
	})
}

func checkErrors(t *testing.T, err error, lines int) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("Parse error %T %v: neither Errors nor ErrLimit", err, err)
		}
		return
	}
	if len(errs) == 0 {
		t.Fatal("Parse returned an empty Errors")
	}
	for _, e := range errs {
		if e.File != "f.rules" || e.Line < 1 || e.Line > lines || e.Err == nil || e.Text == "" {
			t.Fatalf("bad error %+v (file has %d lines)", e, lines)
		}
	}
}
