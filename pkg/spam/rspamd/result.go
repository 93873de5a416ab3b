package rspamd

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Sentinel errors.
var (
	// ErrMalformed means rspamd's answer was not the JSON of /checkv2.
	ErrMalformed = errors.New("rspamd: malformed response")
	// ErrTooLarge means rspamd's answer exceeded Options.MaxResponse.
	ErrTooLarge = errors.New("rspamd: response too large")
)

// Bounds on what a parsed answer may hold.
const (
	maxSymbols   = 1000
	maxNameLen   = 128
	maxDescLen   = 1024
	maxActionLen = 64
)

// Symbol is one rspamd rule that hit.
type Symbol struct {
	Name        string
	Score       float64
	Description string
}

// Result is rspamd's verdict on one message.
type Result struct {
	Score     float64
	Required  float64 // rspamd's required_score (its reject threshold)
	Action    string  // "no action", "greylist", "add header", "rewrite subject", "soft reject", "reject"
	IsSpam    bool    // Action is "add header", "rewrite subject" or "reject"
	IsSkipped bool    // rspamd skipped the message (settings), the verdict is empty
	Symbols   []Symbol
	Truncated bool // only the first Options.MaxSize bytes were sent
	Sent      int  // bytes of message sent
}

type wireSymbol struct {
	Score       float64 `json:"score"`
	Description string  `json:"description"`
}

type wireResult struct {
	Score     *float64              `json:"score"`
	Required  *float64              `json:"required_score"`
	Action    string                `json:"action"`
	IsSkipped bool                  `json:"is_skipped"`
	Symbols   map[string]wireSymbol `json:"symbols"`
	Error     string                `json:"error"`
}

// ParseResult parses the JSON body of a /checkv2 answer. Symbols come out
// ordered by descending score, then by name; names, descriptions and their
// number are bounded so that a hostile answer cannot flood headers.
func ParseResult(data []byte) (*Result, error) {
	var w wireResult
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if w.Error != "" {
		return nil, fmt.Errorf("%w: error %.200q", ErrMalformed, w.Error)
	}
	if !w.IsSkipped && (w.Score == nil || w.Action == "") {
		return nil, fmt.Errorf("%w: no score or action", ErrMalformed)
	}
	res := &Result{Action: w.Action, IsSkipped: w.IsSkipped}
	if w.Score != nil {
		res.Score = *w.Score
	}
	if w.Required != nil {
		res.Required = *w.Required
	}
	if !finite(res.Score) || !finite(res.Required) || len(res.Action) > maxActionLen || !printable(res.Action) {
		return nil, fmt.Errorf("%w: bad score or action", ErrMalformed)
	}
	switch res.Action {
	case "reject", "add header", "rewrite subject":
		res.IsSpam = true
	}
	if len(w.Symbols) > maxSymbols {
		return nil, fmt.Errorf("%w: %d symbols, at most %d", ErrMalformed, len(w.Symbols), maxSymbols)
	}
	for name, s := range w.Symbols {
		if name == "" || len(name) > maxNameLen || !symbolName(name) || !finite(s.Score) {
			return nil, fmt.Errorf("%w: bad symbol %.40q", ErrMalformed, name)
		}
		desc := s.Description
		if len(desc) > maxDescLen || !printable(desc) {
			desc = ""
		}
		res.Symbols = append(res.Symbols, Symbol{Name: name, Score: s.Score, Description: desc})
	}
	slices.SortFunc(res.Symbols, func(a, b Symbol) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Name, b.Name))
	})
	return res, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// symbolName reports whether s is made of [A-Za-z0-9_.-], the characters
// of rspamd symbol names.
func symbolName(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	})
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd })
}
