package clamd

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/qscan/qscan/pkg/virus"
)

// Name is the engine name clamd results and errors carry.
const Name = "clamd"

// maxNameLen bounds a virus name in an answer; real ClamAV names are well
// under 100 bytes, so a longer one means the answer is garbage.
const maxNameLen = 256

const (
	streamPrefix = "stream: "
	sizeLimit    = "INSTREAM size limit exceeded. ERROR"
)

// ParseScanReply parses clamd's answer to INSTREAM, with or without its
// terminator (NUL for z-commands, newline for n-commands):
//
//	stream: OK                                    clean
//	stream: Eicar-Test-Signature FOUND            infected
//	stream: Heuristics.Encrypted.Zip FOUND        infected, Finding.Heuristic
//	INSTREAM size limit exceeded. ERROR           Result.LimitExceeded
//	stream: Can't allocate memory ERROR           error (transient)
//
// Anything else is an error wrapping virus.ErrUnavailable ("unexpected
// answer"): an answer we do not understand is never taken for clean.
func ParseScanReply(reply string) (virus.Result, error) {
	res := virus.Result{Engine: Name}
	s := trimTerminator(reply)
	if s == sizeLimit {
		res.LimitExceeded = true
		return res, nil
	}
	rest, ok := strings.CutPrefix(s, streamPrefix)
	if !ok {
		return res, unexpected("instream", reply)
	}
	switch {
	case rest == "OK":
		return res, nil
	case strings.HasSuffix(rest, " ERROR"):
		msg := strings.TrimSuffix(rest, " ERROR")
		if !printable(msg) {
			return res, unexpected("instream", reply)
		}
		return res, virus.Errorf(Name, "instream: clamd error: %s", msg)
	case strings.HasSuffix(rest, " FOUND"):
		name := strings.TrimSuffix(rest, " FOUND")
		if name == "" || len(name) > maxNameLen || !printable(name) || strings.TrimSpace(name) != name {
			return res, unexpected("instream", reply)
		}
		res.Findings = []virus.Finding{virus.NewFinding(Name, name)}
		return res, nil
	}
	return res, unexpected("instream", reply)
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
