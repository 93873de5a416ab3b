package command

import (
	"strings"
	"unicode"

	"github.com/qscan/qscan/pkg/virus"
)

// Kind classifies one line of scanner output.
type Kind int

const (
	KindOther    Kind = iota // informational, ignored (CLEAN::, INFO::, banners)
	KindInfected             // Path is infected by Name
	KindClean                // Path was scanned and is clean (clamscan "OK")
	KindError                // Path (maybe empty) could not be scanned: Text says why
	KindFailed               // the scanner says it is broken (ScAnNeRfAiLeD)
)

// Line is one parsed output line.
type Line struct {
	Kind Kind
	Path string // as printed by the scanner; not yet checked
	Name string // virus name, for KindInfected
	Text string // error text, for KindError
}

// FailedMarker is the line a generic wrapper prints when the scanner is
// broken.
const FailedMarker = "ScAnNeRfAiLeD"

// ParseGeneric parses one line of MailScanner's generic-wrapper contract:
//
//	INFECTED::<virus name>::<path>    a finding
//	ERROR::<text>::<path>             the file could not be scanned (transient)
//	ScAnNeRfAiLeD                     the scanner is broken (transient)
//	CLEAN::<path>, INFO::<text>       ignored, like any other line
//
// An INFECTED line without a name or a path is taken as an error rather
// than ignored: a finding we cannot read must not pass as clean. Names are
// bounded by virus.BoundName.
func ParseGeneric(s string) Line {
	s = strings.TrimRight(s, "\r\n")
	if strings.Contains(s, FailedMarker) {
		return Line{Kind: KindFailed, Text: s}
	}
	if rest, ok := strings.CutPrefix(s, "INFECTED::"); ok {
		name, path, ok := strings.Cut(rest, "::")
		if !ok || !validName(name) || path == "" {
			return Line{Kind: KindError, Text: "unreadable INFECTED line: " + quote(s)}
		}
		return Line{Kind: KindInfected, Name: virus.BoundName(name), Path: path}
	}
	if rest, ok := strings.CutPrefix(s, "ERROR::"); ok {
		text, path := rest, ""
		if i := strings.LastIndex(rest, "::"); i >= 0 {
			text, path = rest[:i], rest[i+2:]
		}
		return Line{Kind: KindError, Text: quote(text), Path: path}
	}
	return Line{Kind: KindOther}
}

// ParseClam parses one line of clamscan or clamdscan output:
//
//	<path>: <virus name> FOUND
//	<path>: OK
//	<path>: <text> ERROR
//
// Other lines (warnings, "<path>: Empty file", summaries) are KindOther.
// The path is what precedes the last ": ", since names never contain one.
func ParseClam(s string) Line {
	s = strings.TrimRight(s, "\r\n")
	for _, end := range []struct {
		suffix string
		kind   Kind
	}{{" FOUND", KindInfected}, {" ERROR", KindError}, {": OK", KindClean}} {
		body, ok := strings.CutSuffix(s, end.suffix)
		if !ok {
			continue
		}
		if end.kind == KindClean {
			return Line{Kind: KindClean, Path: body}
		}
		i := strings.LastIndex(body, ": ")
		if i <= 0 {
			if end.kind == KindError {
				return Line{Kind: KindError, Text: quote(body)}
			}
			return Line{Kind: KindError, Text: "unreadable FOUND line: " + quote(s)}
		}
		path, word := body[:i], body[i+2:]
		if end.kind == KindError {
			return Line{Kind: KindError, Path: path, Text: quote(word)}
		}
		if !validName(word) {
			return Line{Kind: KindError, Text: "unreadable FOUND line: " + quote(s)}
		}
		return Line{Kind: KindInfected, Path: path, Name: virus.BoundName(word)}
	}
	return Line{Kind: KindOther}
}

// validName accepts any name but an empty one: a finding is a verdict
// whatever name the scanner's database gives it (virus.BoundName makes it
// one qscan can keep); an empty one is a line we cannot read.
func validName(s string) bool {
	return strings.TrimSpace(s) != ""
}

// quote bounds and escapes text from the scanner for our error messages.
func quote(s string) string {
	const show = 200
	if len(s) > show {
		s = s[:show] + "..."
	}
	q := strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' ' // multi-line stderr stays on one log line
		}
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, q)
}
