package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qscan/qscan/test/stackutil"
)

// engineSet is one choice of engines that a drain runs with: the name as
// given on the command line and what goes into [virus] scanners and
// [spam] engines.
type engineSet struct {
	name  string
	virus []string
	spam  []string
}

// uses reports whether the set needs the named engine.
func (e engineSet) uses(engine string) bool {
	return slices.Contains(e.virus, engine) || slices.Contains(e.spam, engine)
}

// daemons lists the stack daemons (clamd, spamd) the set needs.
func (e engineSet) daemons() []string {
	var out []string
	for _, d := range []string{"clamd", "spamd"} {
		if e.uses(d) {
			out = append(out, d)
		}
	}
	return out
}

// parseEngines reads a comma list of engine sets, each "none" or engines
// joined by "+": builtin, clamd (virus) and spamd (spam).
func parseEngines(s string) ([]engineSet, error) {
	var sets []engineSet
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if seen[item] {
			return nil, fmt.Errorf("engines %q: %q listed twice", s, item)
		}
		seen[item] = true
		set := engineSet{name: item}
		if item == "none" {
			sets = append(sets, set)
			continue
		}
		for _, e := range strings.Split(item, "+") {
			switch {
			case set.uses(e):
				return nil, fmt.Errorf("engines %q: %q twice in %q", s, e, item)
			case e == "builtin" || e == "clamd":
				set.virus = append(set.virus, e)
			case e == "spamd":
				set.spam = append(set.spam, e)
			default:
				return nil, fmt.Errorf("engines %q: unknown engine %q (use none, builtin, clamd, spamd joined by +)", s, e)
			}
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("engines %q: no engine set", s)
	}
	return sets, nil
}

// defaultEngines is the list used when none is given: the pass-through
// and the built-in engine always, clamd and clamd+spamd when they are up.
func defaultEngines(up func(daemon string) bool) string {
	s := "none,builtin"
	if up("clamd") {
		s += ",clamd"
		if up("spamd") {
			s += ",clamd+spamd"
		}
	}
	return s
}

// stack is what the bench knows of the loopback test stack.
type stack struct {
	up    map[string]bool
	clamd string // clamd TCP address
	spamd string // spamd TCP address
	dir   string // the stack's state directory (pid files under run/)
}

// probeStack asks scripts/teststack (under the caller's QSCAN_STACK and
// QSCAN_STACK_PORTS) which daemons answer and where they listen.
func probeStack() (stack, error) {
	st := stack{up: map[string]bool{}}
	for _, d := range []string{"clamd", "spamd"} {
		st.up[d] = stackutil.Status(d) == nil
	}
	if !st.up["clamd"] && !st.up["spamd"] {
		return st, nil
	}
	env, err := stackutil.Env()
	if err != nil {
		return stack{up: map[string]bool{}}, fmt.Errorf("probe stack: %w", err)
	}
	st.clamd, st.spamd, st.dir = env.ClamdAddr, env.SpamdAddr, env.Dir
	return st, nil
}

// reachable splits sets into those whose daemons are up and notes for
// the others.
func reachable(sets []engineSet, st stack) (ok []engineSet, notes []string) {
	for _, s := range sets {
		var down []string
		for _, d := range s.daemons() {
			if !st.up[d] {
				down = append(down, d)
			}
		}
		if len(down) > 0 {
			notes = append(notes, fmt.Sprintf("%s skipped: %s not reachable (start it with scripts/teststack start %s)",
				s.name, strings.Join(down, ", "), strings.Join(down, " ")))
			continue
		}
		ok = append(ok, s)
	}
	return ok, notes
}

// pidFile returns the pid file of a stack daemon, "" when unknown.
func (st stack) pidFile(daemon string) string {
	if st.dir == "" {
		return ""
	}
	p := filepath.Join(st.dir, "run", daemon+".pid")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
