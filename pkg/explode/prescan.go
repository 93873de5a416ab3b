package explode

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

// scan is the outcome of prescan: a linear pass over the MIME structure
// that decides the limits before the MIME library sees the message. The
// library is quadratic in the number of sibling parts and exponential in
// nested multiparts that are never closed, so it must only get input that
// passed here.
type scan struct {
	Parts     int      // MIME parts (delimiters of known boundaries)
	Depth     int      // deepest multipart nesting
	Unclosed  int      // most nested multiparts left open at once
	Ambiguous []string // reasons the structure could be read two ways
	Verdict   string   // non-empty: a limit was hit, do not parse further
}

// blockAmbiguity checks one header block for fields that parsers resolve
// differently when repeated.
func blockAmbiguity(fields []mimetree.Field) []string {
	var why []string
	ct := mimetree.Values(fields, "Content-Type")
	if len(ct) > 1 && !allEqual(ct) {
		why = append(why, "two Content-Type fields")
	}
	if cte := mimetree.Values(fields, "Content-Transfer-Encoding"); len(cte) > 1 && !allEqual(cte) {
		why = append(why, "two Content-Transfer-Encoding fields")
	}
	if len(ct) > 0 {
		why = append(why, parseMediaType(ct[0]).ambiguity()...)
	}
	return why
}

func allEqual(vs []string) bool {
	for _, v := range vs[1:] {
		if !strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(vs[0])) {
			return false
		}
	}
	return true
}

// contentType returns the parsed first Content-Type of a block.
func contentType(fields []mimetree.Field) mediaType {
	if ct := mimetree.Values(fields, "Content-Type"); len(ct) > 0 {
		return parseMediaType(ct[0])
	}
	return mediaType{}
}

// prescan walks body (the bytes after the top header) with a stack of
// open boundaries. top is the parsed top-level header.
func prescan(top []mimetree.Field, body []byte, lim Limits, baseDepth int) scan {
	s := scan{Parts: 1, Ambiguous: blockAmbiguity(top)}
	if s.Verdict = paramVerdict(top, lim.MaxHeaderParams); s.Verdict != "" {
		return s
	}
	mt := contentType(top)
	b := mt.boundary()
	if !strings.HasPrefix(mt.Type, "multipart/") || b == "" {
		return s
	}
	s.Parts = 0
	stack := []string{b}
	s.Depth = 1
	for len(body) > 0 {
		line := nextLine(&body)
		if len(line) < 3 || line[0] != '-' || line[1] != '-' {
			continue
		}
		i, closing := matchDelimiter(line, stack)
		if i < 0 {
			continue
		}
		s.Unclosed = max(s.Unclosed, len(stack)-1-i)
		stack = stack[:i+1]
		if closing {
			stack = stack[:i]
			continue
		}
		s.Parts++
		if s.Parts > lim.MaxMIMEParts {
			s.Verdict = fmt.Sprintf("%s: more than %d", TextMIMEParts, lim.MaxMIMEParts)
			return s
		}
		hdr, ok := takeHeader(&body, lim.MaxHeaderBytes, stack)
		if !ok {
			s.Verdict = fmt.Sprintf("%s: part header over %d bytes", TextHeaderSize, lim.MaxHeaderBytes)
			return s
		}
		fields := mimetree.Fields(hdr, 0, len(hdr))
		if s.Verdict = paramVerdict(fields, lim.MaxHeaderParams); s.Verdict != "" {
			return s
		}
		s.Ambiguous = append(s.Ambiguous, blockAmbiguity(fields)...)
		pt := contentType(fields)
		if nb := pt.boundary(); strings.HasPrefix(pt.Type, "multipart/") && nb != "" {
			stack = append(stack, nb)
			s.Depth = max(s.Depth, len(stack))
			if baseDepth+len(stack) > lim.MaxMIMEDepth {
				s.Verdict = fmt.Sprintf("%s: more than %d levels", TextMIMEDepth, lim.MaxMIMEDepth)
				return s
			}
		}
		if s.Unclosed > lim.MaxUnclosedMultiparts {
			break
		}
	}
	s.Unclosed = max(s.Unclosed, len(stack)-1)
	if s.Unclosed > lim.MaxUnclosedMultiparts {
		s.Verdict = fmt.Sprintf("%s: %d nested multiparts without close delimiter", TextMalformed, s.Unclosed)
	}
	return s
}

// paramVerdict bounds what the MIME library gets: its repair of media
// type parameters is quadratic in their number, so a Content-Type or
// Content-Disposition with more than max parameters is a verdict, decided
// here in linear time.
func paramVerdict(fields []mimetree.Field, max int) string {
	for _, f := range fields {
		if !strings.EqualFold(f.Name, "Content-Type") && !strings.EqualFold(f.Name, "Content-Disposition") {
			continue
		}
		// Every semicolon outside quotes may start a parameter for the
		// library, empty or broken ones included.
		if n := strings.Count(f.Value, ";"); n > max {
			segs, _, _ := mimetree.SplitParams(f.Value)
			if len(segs)-1 > max {
				return fmt.Sprintf("%s: %s with %d, limit %d", TextHeaderParams, f.Name, len(segs)-1, max)
			}
		}
	}
	return ""
}

// nextLine cuts the next line (without its line end) off *b.
func nextLine(b *[]byte) []byte {
	line := *b
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, *b = line[:i], line[i+1:]
	} else {
		*b = nil
	}
	return bytes.TrimRight(line, "\r")
}

// matchDelimiter finds which open boundary (innermost first) line
// delimits, and whether it is the close delimiter. -1 if none.
func matchDelimiter(line []byte, stack []string) (int, bool) {
	rest := line[2:]
	for i := len(stack) - 1; i >= 0; i-- {
		b := stack[i]
		if !bytes.HasPrefix(rest, []byte(b)) {
			continue
		}
		tail := bytes.TrimRight(rest[len(b):], " \t")
		switch string(tail) {
		case "":
			return i, false
		case "--":
			return i, true
		}
	}
	return -1, false
}

// takeHeader cuts a part header block off *b: lines up to the first empty
// one, or up to (not including) a delimiter line of an open boundary, as the
// MIME library reads each part through a boundary reader. ok is false when
// the block is larger than maxBytes.
func takeHeader(b *[]byte, maxBytes int64, stack []string) (hdr []byte, ok bool) {
	start := *b
	n := 0
	for len(*b) > 0 {
		before := *b
		line := nextLine(b)
		if len(line) >= 2 && line[0] == '-' && line[1] == '-' {
			if i, _ := matchDelimiter(line, stack); i >= 0 {
				*b = before
				return start[:n], true
			}
		}
		consumed := len(start) - len(*b)
		if int64(consumed) > maxBytes {
			return nil, false
		}
		if len(line) == 0 {
			return start[:n], true
		}
		n = consumed
	}
	return start[:n], true
}
