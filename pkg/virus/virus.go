// Package virus holds what every virus engine of qscan shares: the result of
// scanning one piece of content, the error every engine returns when it could
// not give a verdict, a combinator that runs several engines over the same
// content, and health and backoff tracking for engines that go down.
//
// The engines live in subpackages (clamd, command, builtin). They take an
// io.Reader (or a directory for the command engine) and know nothing of
// messages; the pipeline declares the small interface it needs and maps
// results to reports.
//
// Errors are classified at this boundary (STYLE rule 6): every scan error
// wraps ErrUnavailable and is transient — the engine gave no verdict, so the
// caller must hold the message and retry (ARCHITECTURE invariant 3). Outcomes
// that are verdicts about the content itself, even unhappy ones such as "too
// large for this engine", are not errors: they are fields of Result, and the
// caller's policy decides what they mean.
package virus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrUnavailable is wrapped by every error an engine returns when it could not
// give a verdict: connection refused, timeout, an ERROR answer, an answer it
// could not parse, a scanner that reported its own failure. Such errors are
// transient: hold the message, retry later.
var ErrUnavailable = errors.New("virus: engine unavailable")

// Errorf returns an error wrapping ErrUnavailable with the text
// "engine op: cause". Engines use it so that errors.Is(err, ErrUnavailable)
// holds for all of them and the message names the engine.
func Errorf(engine, format string, args ...any) error {
	return fmt.Errorf("%s %w", engine, &unavailable{fmt.Errorf(format, args...)})
}

// unavailable makes errors.Is(err, ErrUnavailable) true while keeping the
// cause reachable through errors.Is/As and the text free of a second prefix.
type unavailable struct{ err error }

func (u *unavailable) Error() string        { return u.err.Error() }
func (u *unavailable) Unwrap() []error      { return []error{ErrUnavailable, u.err} }
func (u *unavailable) Is(target error) bool { return target == ErrUnavailable }

// HeuristicPrefix starts the names ClamAV gives to heuristic detections
// (Heuristics.Limits.Exceeded.MaxFileSize, Heuristics.Encrypted.Zip, ...):
// properties of the content rather than signature matches.
const HeuristicPrefix = "Heuristics."

// Finding is one detection by one engine.
type Finding struct {
	Engine    string `json:"engine"`              // "clamd", "builtin", "clamscan", ...
	Name      string `json:"name"`                // e.g. "Eicar-Test-Signature"
	Heuristic bool   `json:"heuristic,omitempty"` // a Heuristics.* name: the caller maps it by policy
}

// NewFinding returns the finding of name by engine, marking ClamAV heuristic
// names.
func NewFinding(engine, name string) Finding {
	return Finding{Engine: engine, Name: name, Heuristic: strings.HasPrefix(name, HeuristicPrefix)}
}

// Result is the verdict of one engine (or of a Multi) on one piece of content.
// The zero value means clean.
type Result struct {
	// Engine names the engine that produced the result; for a Multi the names
	// of its engines joined with "+".
	Engine string `json:"engine"`
	// Findings lists every detection, in the order the engines reported them.
	Findings []Finding `json:"findings,omitempty"`
	// LimitExceeded reports that the engine refused the content because it is
	// larger than it accepts (clamd's StreamMaxLength, our own max_stream): the
	// content was NOT fully scanned. It is not an infection and not an error;
	// the caller decides (unscannable → hold, quarantine or deliver by policy).
	LimitExceeded bool `json:"limit_exceeded,omitempty"`
}

// Infected reports whether any engine found anything, heuristic or not.
func (r Result) Infected() bool { return len(r.Findings) > 0 }

// Heuristic reports whether there are findings and all of them are heuristic.
func (r Result) Heuristic() bool {
	for _, f := range r.Findings {
		if !f.Heuristic {
			return false
		}
	}
	return len(r.Findings) > 0
}

// Names returns the names of the findings without duplicates, in order.
func (r Result) Names() []string {
	var names []string
	seen := make(map[string]bool, len(r.Findings))
	for _, f := range r.Findings {
		if !seen[f.Name] {
			seen[f.Name] = true
			names = append(names, f.Name)
		}
	}
	return names
}

// Prober is an engine that can be tested cheaply while it is down (clamd:
// a scan of a few bytes), so that qscan can find it back without waiting
// for a held message's retry.
type Prober interface {
	// Probe returns nil when the engine gives a verdict again.
	Probe(ctx context.Context) error
}

// MaxNameLen bounds the length in bytes of a finding's name as BoundName
// returns it. Signature databases hold names of any length; a longer one
// is cut, never refused, since refusing a verdict would take the engine
// for down.
const MaxNameLen = 256

// CutMark ends a name that BoundName cut to MaxNameLen.
const CutMark = "...[cut]"

// NoName stands for a finding whose engine gave an empty name.
const NoName = "(unnamed)"

// BoundName returns name as qscan keeps and logs it: invalid UTF-8
// replaced by U+FFFD, control characters by '?', surrounding spaces
// trimmed, at most MaxNameLen bytes (cut on a character boundary and
// ended with CutMark), and NoName for an empty name.
func BoundName(name string) string {
	name = strings.TrimSpace(name)
	long := len(name) > 4*MaxNameLen // enough to fill MaxNameLen after replacements
	if long {
		name = name[:4*MaxNameLen]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(name, "\uFFFD"))
	if name == "" {
		return NoName
	}
	if !long && len(name) <= MaxNameLen {
		return name
	}
	cut := min(len(name), MaxNameLen-len(CutMark))
	for cut > 0 && cut < len(name) && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + CutMark
}
