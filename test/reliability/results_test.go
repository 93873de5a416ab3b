//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// A test records its figures as a markdown fragment in the results
// directory; TestMain appends them, in name order, to test/RESULTS.md.

// resultsDir is this test process's fragment directory.
func resultsDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("qscan-rel-results-%d", os.Getpid()))
}

// table is one markdown table of a test's section.
type table struct {
	head []string
	rows [][]string
}

func (tb *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	tb.rows = append(tb.rows, row)
}

func (tb table) String() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(tb.head, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(tb.head)) + "\n")
	for _, r := range tb.rows {
		for i := range r {
			r[i] = strings.ReplaceAll(r[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// record writes the section of test t: a title, free text and tables.
func record(t *testing.T, order int, text string, tables ...table) {
	t.Helper()
	var b strings.Builder
	status := "PASS"
	if t.Failed() {
		status = "FAIL"
	}
	fmt.Fprintf(&b, "### %s (%s)\n\n", t.Name(), status)
	if text != "" {
		b.WriteString(strings.TrimSpace(text) + "\n\n")
	}
	for _, tb := range tables {
		b.WriteString(tb.String() + "\n")
	}
	os.MkdirAll(resultsDir(), 0o755)
	name := fmt.Sprintf("%02d-%s.md", order, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.WriteFile(filepath.Join(resultsDir(), name), []byte(b.String()), 0o644); err != nil {
		t.Error(err)
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("REL_HOSTILE_GEN"); dir != "" {
		if err := writeHostileInputs(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if err := appendResults(); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: results:", err)
	}
	os.RemoveAll(resultsDir())
	os.Exit(code)
}

// appendResults appends a dated section with the fragments to
// $REL_RESULTS (default ../RESULTS.md; "off" writes nothing).
func appendResults() error {
	path := os.Getenv("REL_RESULTS")
	if path == "off" {
		return nil
	}
	if path == "" {
		path = filepath.Join("..", "RESULTS.md")
	}
	ents, err := os.ReadDir(resultsDir())
	if err != nil || len(ents) == 0 {
		return nil // nothing ran (skipped, or -run matched nothing)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n## %s — scale %s\n\n%s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), relScale().name, machine())
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(resultsDir(), n))
		if err != nil {
			return err
		}
		b.Write(data)
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		b2 := "# qscan reliability results\n\nAppended by `make reliability` (test/reliability). Each section is one run; " +
			"lost / duplicated / delivered-unscanned counts must all be 0.\n"
		if err := os.WriteFile(path, []byte(b2), 0o644); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(b.String())
	return err
}

// machine describes the host: CPUs, memory, kernel, qscan version.
func machine() string {
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				mem = strings.TrimSpace(v)
			}
		}
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	rev, _ := exec.Command("git", "describe", "--always", "--dirty").Output()
	return fmt.Sprintf("Machine: nproc %d, memory %s, kernel %s, %s; qscan %s.\n",
		runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version(), strings.TrimSpace(string(rev)))
}
