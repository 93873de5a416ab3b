package ruleset

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/internal/golden"
)

// TestGolden parses every testdata/NAME.rules, evaluates it for each message
// in testdata/NAME.cases (if any), and compares the report, or the parse
// errors, with testdata/NAME.want.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.rules")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden rulesets: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".rules")
		t.Run(name, func(t *testing.T) {
			got := goldenReport(t, file)
			golden.Check(t, strings.TrimSuffix(file, ".rules")+".want", []byte(got))
		})
	}
}

func goldenReport(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rs, err := Parse(filepath.Base(file), data, Options{})
	if err != nil {
		fmt.Fprintf(&b, "errors:\n%v\n", err)
		return b.String()
	}
	def, hasDef := rs.Default()
	fmt.Fprintf(&b, "rules=%d default=%q/%v uses-host=%v\n", rs.Len(), def, hasDef, rs.UsesHost())
	cases, err := os.ReadFile(strings.TrimSuffix(file, ".rules") + ".cases")
	if err != nil {
		return b.String()
	}
	for i, line := range strings.Split(string(cases), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		m, err := parseCase(line)
		if err != nil {
			t.Fatalf("%s.cases:%d: %v", strings.TrimSuffix(file, ".rules"), i+1, err)
		}
		v, at, ok := rs.Explain(m)
		fmt.Fprintf(&b, "\n%s\n  value=%q at=%q ok=%v\n  all=%q\n  per-recipient=%q any-yes=%v\n",
			line, v, at, ok, rs.All(m), rs.PerRecipient(m), rs.AnyRecipient(m, IsYes))
	}
	return b.String()
}

// parseCase reads "from=A to=B,C ip=IP host=NAME verified virus=V1,V2".
func parseCase(line string) (Msg, error) {
	var m Msg
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "from":
			m.From = v
		case "to":
			m.To = strings.Split(v, ",")
		case "ip":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return m, err
			}
			m.ClientIP = a
		case "host":
			m.ClientHost = v
		case "verified":
			m.HostVerified = true
		case "virus":
			m.Virus = strings.Split(v, ",")
		default:
			return m, fmt.Errorf("unknown field %q", k)
		}
	}
	return m, nil
}

// TestExamples checks that the shipped examples in etc/rules/examples parse
// and say what their comments promise.
func TestExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "etc", "rules", "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.rules"))
	if err != nil || len(files) < 5 {
		t.Fatalf("examples in %s: %d files, %v", dir, len(files), err)
	}
	sets := map[string]*Ruleset{}
	for _, f := range files {
		rs, err := ParseFile(f, Options{})
		if err != nil {
			t.Errorf("ParseFile(%s): %v", f, err)
			continue
		}
		if _, ok := rs.Default(); !ok || rs.Len() == 0 {
			t.Errorf("%s: %d rules, default %v; want rules and a default", f, rs.Len(), ok)
		}
		sets[filepath.Base(f)] = rs
	}
	tests := []struct {
		file string
		m    Msg
		want string
	}{
		{"spam.checks.rules", Msg{From: "a@mx.partner.example", ClientIP: ip("192.0.2.1")}, "no"},
		{"spam.checks.rules", Msg{From: "a@elsewhere.example", ClientIP: ip("192.0.2.1")}, "yes"},
		{"spam.checks.rules", Msg{From: "a@elsewhere.example", ClientIP: ip("2001:db8:1ff::1")}, "no"},
		{"notices.to.rules", Msg{From: "x@y", To: []string{"u@hr.example.org"}}, "secdesk@example.org"},
		{"notices.to.rules", Msg{From: "x@y", To: []string{"u@example.com"}}, "postmaster@example.com"},
		{"max.message.size.rules", Msg{From: "x@y", ClientIP: ip("127.0.0.1")}, "0"},
		{"spam.actions.rules", Msg{From: "bot@trap.example.net", To: []string{"abuse@example.com"}}, "deliver forward abuse-archive@example.com"},
		{"is.definitely.not.spam.rules", Msg{From: "x@y", ClientIP: ip("192.0.2.9"), ClientHost: "relay.partner.example"}, "no"},
	}
	for _, tt := range tests {
		rs := sets[tt.file]
		if rs == nil {
			t.Errorf("example %s missing", tt.file)
			continue
		}
		if got, _ := rs.Value(tt.m); got != tt.want {
			t.Errorf("%s: Value(%+v) = %q, want %q", tt.file, tt.m, got, tt.want)
		}
	}
	if rs := sets["virus.scanning.rules"]; rs != nil {
		m := Msg{To: []string{"a@virus-test.example.com", "b@example.com"}}
		if !rs.AnyRecipient(m, IsYes) {
			t.Error("virus.scanning.rules: a mixed message must be scanned")
		}
	}
}
