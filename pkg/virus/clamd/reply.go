package clamd

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/qscan/qscan/pkg/virus"
)

// Name is the engine name clamd results and errors carry.
const Name = "clamd"

// maxFindings bounds the findings kept of one answer.
const maxFindings = 32

const (
	streamPrefix = "stream: "
	sizeLimit    = "INSTREAM size limit exceeded. ERROR"
)

// extendedInfo is what clamd's ExtendedDetectionInfo appends to a name:
// "(<md5 or sha256 in hex>:<size>)".
var extendedInfo = regexp.MustCompile(`\([0-9a-f]{32,64}:[0-9]+\)$`)

// ParseScanReply parses clamd's answer to INSTREAM, with or without its
// terminator (NUL for z-commands, newline for n-commands):
//
//	stream: OK                                    clean
//	stream: Eicar-Test-Signature FOUND            infected
//	stream: Heuristics.Encrypted.Zip FOUND        infected, Finding.Heuristic
//	INSTREAM size limit exceeded. ERROR           Result.LimitExceeded
//	stream: Can't allocate memory ERROR           error (transient)
//	Error processing command. ERROR               error (transient)
//
// A FOUND answer is a verdict whatever its name holds: the name is taken
// through virus.BoundName (cut to virus.MaxNameLen with a marker, odd
// bytes replaced) and an ExtendedDetectionInfo suffix "(hash:size)" is
// dropped. An answer of several lines (all-match scanning) is infected if
// any line is FOUND, whatever the other lines say, at most maxFindings
// findings kept; otherwise a size-limit line wins, then an ERROR line.
// Clean is exactly "stream: OK" and its terminator. Anything else is an error
// wrapping virus.ErrUnavailable ("unexpected answer"): an answer we do not
// understand is never taken for clean.
func ParseScanReply(reply string) (virus.Result, error) {
	res := virus.Result{Engine: Name}
	oks := 0
	var limit bool
	var errText string
	for _, line := range answerLines(reply) {
		rest, stream := strings.CutPrefix(line, streamPrefix)
		switch {
		case line == sizeLimit:
			limit = true
		case stream && rest == "OK":
			oks++
		case stream && strings.HasSuffix(rest, " FOUND"):
			if len(res.Findings) < maxFindings {
				res.Findings = append(res.Findings, virus.NewFinding(Name, virusName(strings.TrimSuffix(rest, " FOUND"))))
			}
		case strings.HasSuffix(line, " ERROR") && errText == "":
			errText = strings.TrimSuffix(rest, " ERROR")
		}
	}
	switch {
	case res.Infected():
		return res, nil
	case limit:
		res.LimitExceeded = true
		return res, nil
	case errText != "":
		return res, virus.Errorf(Name, "instream: clamd error: %s", virus.BoundName(errText))
	case oks == 1 && trimTerminator(reply) == streamPrefix+"OK":
		return res, nil
	}
	return res, unexpected("instream", reply)
}

// answerLines splits an answer into its lines: clamd ends each with its
// terminator (NUL or newline), so the last one may have none and an empty
// line is not an answer.
func answerLines(reply string) []string {
	lines := strings.FieldsFunc(reply, func(r rune) bool { return r == 0 || r == '\n' })
	if len(lines) == 0 {
		return []string{reply} // nothing of an answer: unexpected
	}
	return lines
}

// virusName is the name of a finding as qscan keeps it.
func virusName(s string) string {
	return virus.BoundName(extendedInfo.ReplaceAllString(s, ""))
}

// trimTerminator removes the one terminator clamd puts after an answer.
func trimTerminator(s string) string {
	if t, ok := strings.CutSuffix(s, "\x00"); ok {
		return t
	}
	return strings.TrimSuffix(s, "\n")
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// unexpected is the error for an answer we cannot read, quoting a bounded
// prefix of it for the log.
func unexpected(op, reply string) error {
	const show = 80
	if len(reply) > show {
		reply = reply[:show] + "..."
	}
	return virus.Errorf(Name, "%s: unexpected answer %q", op, reply)
}

// Stats is what qscan uses from clamd's STATS answer.
type Stats struct {
	ThreadsLive, ThreadsIdle, ThreadsMax int
	Queue                                int // items waiting for a thread
}

// ParseStats parses clamd's STATS answer, which looks like
//
//	POOLS: 1
//
//	STATE: VALID PRIMARY
//	THREADS: live 1  idle 0 max 12 idle-timeout 30
//	QUEUE: 0 items
//	...
//	END
//
// The THREADS line with a positive max is required; other lines are ignored.
func ParseStats(reply string) (Stats, error) {
	var st Stats
	found := false
	for line := range strings.Lines(trimTerminator(reply)) {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "THREADS":
			found = true
			err = parseFields(val, map[string]*int{"live": &st.ThreadsLive, "idle": &st.ThreadsIdle, "max": &st.ThreadsMax})
		case "QUEUE":
			f := strings.Fields(val)
			if len(f) > 0 {
				st.Queue, err = strconv.Atoi(f[0])
			}
		}
		if err != nil {
			return st, virus.Errorf(Name, "stats: line %q: %w", truncate(line), err)
		}
	}
	if !found || st.ThreadsMax <= 0 {
		return st, unexpected("stats", reply)
	}
	return st, nil
}

// parseFields reads "key value" pairs such as "live 1  idle 0 max 12" into
// the named ints, ignoring keys it does not know.
func parseFields(s string, into map[string]*int) error {
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i += 2 {
		p, ok := into[f[i]]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(f[i+1])
		if err != nil || n < 0 {
			return fmt.Errorf("bad %s %q", f[i], f[i+1])
		}
		*p = n
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
