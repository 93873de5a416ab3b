package stackutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"time"
)

// LogEntry is one line of qscan's JSON log.
type LogEntry struct {
	Time  time.Time
	Level string
	Msg   string
	Raw   string         // the line as written
	F     map[string]any // every field; nil for a line that is not JSON
}

// ReadLog parses a JSON log file; a line that is not JSON is kept as Msg.
// A file that cannot be read gives no entries.
func ReadLog(path string) []LogEntry {
	data, _ := os.ReadFile(path)
	var out []LogEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		e := LogEntry{Raw: line}
		var f map[string]any
		if json.Unmarshal([]byte(line), &f) == nil {
			e.F = f
			e.Level, _ = f["level"].(string)
			e.Msg, _ = f["msg"].(string)
			if ts, ok := f["time"].(string); ok {
				e.Time, _ = time.Parse(time.RFC3339Nano, ts)
			}
		} else {
			e.Msg = line
		}
		out = append(out, e)
	}
	return out
}

// Num returns a numeric field of a log entry (0 when absent).
func (e LogEntry) Num(k string) float64 {
	v, _ := e.F[k].(float64)
	return v
}

// GrepLog returns the log lines containing s.
func GrepLog(entries []LogEntry, s string) []string {
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Raw, s) {
			out = append(out, e.Raw)
		}
	}
	return out
}

// BatchTimes returns the duration of every "batch done" line.
func BatchTimes(entries []LogEntry) []time.Duration {
	var out []time.Duration
	for _, e := range entries {
		if e.Msg == "batch done" {
			out = append(out, time.Duration(e.Num("ms"))*time.Millisecond)
		}
	}
	return out
}
