package mimetree

import "bytes"

// delimiter is one boundary line of a multipart.
type delimiter struct {
	brk   int  // start of the line break before it (its own start when none)
	line  int  // start of the "--boundary" line
	next  int  // offset after the delimiter line
	close bool // "--boundary--"
}

// delimiters finds the boundary lines of the multipart body b[start:end]
// up to and including the close delimiter. It reads them as enmime (which
// pkg/rebuild checks against) does, quirks included, so that both number parts
// alike:
// before the first part any line holding "--b" plus a blank, or "--b--",
// counts; later only lines that start so; a delimiter (not a close one)
// must end with a line break.
func delimiters(b []byte, start, end int, boundary string) []delimiter {
	dash := []byte("--" + boundary)
	var out []delimiter
	for pos := start; pos < end; {
		nl, next := LineEnd(b, pos, end)
		line := b[pos:TrimCR(b, pos, nl)]
		isDelim, isClose := matchLine(line, dash, len(out) == 0)
		if isClose || (isDelim && nl < end) {
			out = append(out, delimiter{brk: lineBreakBefore(b, start, pos), line: pos, next: next, close: isClose})
			if isClose {
				return out
			}
		}
		pos = next
	}
	return out
}

// matchLine tells whether line is a delimiter or a close delimiter of
// dash ("--boundary"); in the preamble the mark may be anywhere in it.
func matchLine(line, dash []byte, preamble bool) (isDelim, isClose bool) {
	if preamble {
		if bytes.Contains(line, append(dash[:len(dash):len(dash)], '-', '-')) {
			return false, true
		}
		i := bytes.Index(line, dash)
		if i < 0 {
			return false, false
		}
		tail := line[i+len(dash):]
		return len(tail) == 0 || isSpace(tail[0]), false
	}
	if !bytes.HasPrefix(line, dash) {
		return false, false
	}
	tail := line[len(dash):]
	if bytes.HasPrefix(tail, []byte("--")) {
		return false, true
	}
	return len(tail) == 0 || isSpace(tail[0]), false
}

// isSpace is unicode.IsSpace of a byte taken as a rune, as enmime tests it.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xa0:
		return true
	}
	return false
}

// lineBreakBefore returns where the line break ending at pos starts (pos
// itself at the start of the range): RFC 2046 counts it as part of the
// delimiter that follows.
func lineBreakBefore(b []byte, start, pos int) int {
	if pos == start {
		return pos
	}
	if pos-2 >= start && b[pos-2] == '\r' {
		return pos - 2
	}
	return pos - 1
}
