// Package makefile tests targets of the project's Makefile.
package makefile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeFuzzGoesOn runs `make fuzz` over a module of three packages:
// one with a passing and a failing target, one with a failing target,
// one that does not build. Every target runs, every failure is listed at
// the end, and make fails.
func TestMakeFuzzGoesOn(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":       "module example.test/fz\n\ngo 1.22\n",
		"a/a.go":       "package a\n",
		"a/a_test.go":  fuzzTarget("a", "FuzzAFails", true) + fuzzBody("FuzzAPasses", false),
		"b/b.go":       "package b\n",
		"b/b_test.go":  fuzzTarget("b", "FuzzBFails", true),
		"c/c.go":       "package c\n",
		"c/c_test.go":  "package c\n\nfunc broken( {\n",
		"d/d.go":       "package d\n",
		"d/d_test.go":  fuzzTarget("d", "FuzzDPasses", false),
		"e/nothing.go": "package e\n",
	}
	for name, s := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("make", "-s", "-C", dir, "-f", makefile, "fuzz", "FUZZTIME=1x")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("make fuzz succeeded with failing targets:\n%s", out)
	}
	text := string(out)
	for _, want := range []string{"== example.test/fz/a FuzzAPasses", "== example.test/fz/b FuzzBFails", "== example.test/fz/d FuzzDPasses"} {
		if !strings.Contains(text, want) {
			t.Errorf("make fuzz did not run %q:\n%s", want, text)
		}
	}
	_, summary, ok := strings.Cut(text, "fuzz: failed:")
	if !ok {
		t.Fatalf("make fuzz printed no list of failures:\n%s", text)
	}
	for _, want := range []string{"example.test/fz/a FuzzAFails", "example.test/fz/b FuzzBFails", "example.test/fz/c (test build failed)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the list of failures lacks %q:\n%s", want, summary)
		}
	}
	for _, not := range []string{"Passes", "fz/e"} {
		if strings.Contains(summary, not) {
			t.Errorf("the list of failures names %q:\n%s", not, summary)
		}
	}
}

// fuzzTarget is a test file of package pkg with one fuzz target.
func fuzzTarget(pkg, name string, fails bool) string {
	return "package " + pkg + "\n\nimport \"testing\"\n" + fuzzBody(name, fails)
}

// fuzzBody is a fuzz target that fails on its seed, or never.
func fuzzBody(name string, fails bool) string {
	body := ""
	if fails {
		body = `t.Fatal("boom")`
	}
	return "\nfunc " + name + "(f *testing.F) {\n\tf.Add(\"x\")\n\tf.Fuzz(func(t *testing.T, s string) {" + body + "})\n}\n"
}
