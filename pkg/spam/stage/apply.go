package stage

import (
	"bytes"
	"strings"
)

// Apply returns header with edits made: deletions and replacements act on
// the fields of header (every field of a deleted name goes, the first field
// of a replaced name gets the new value, or it is added when there is
// none); additions go at the end, in order. Unnamed lines and fields not
// edited keep their bytes. Lines end like the header's (LF unless it uses
// CRLF). A line break in a value that is not followed by a blank is turned
// into a space, so that an edit can never start a new field; an addition
// or replacement whose name is not a valid field name is left out.
func Apply(header []byte, edits []HeaderEdit) []byte {
	nl := lineEnd(header)
	deleted := map[string]bool{}
	replace := map[string]*HeaderEdit{}
	for i, e := range edits {
		switch low := strings.ToLower(e.Name); e.Op {
		case OpDelete:
			deleted[low] = true
		case OpReplace:
			if replace[low] == nil {
				replace[low] = &edits[i]
			}
		}
	}
	var out bytes.Buffer
	out.Grow(len(header) + 512)
	done := map[string]bool{}
	for _, f := range splitFields(header) {
		low := strings.ToLower(f.name)
		switch {
		case f.name != "" && deleted[low]:
			continue
		case f.name != "" && replace[low] != nil && !done[low]:
			done[low] = true
			writeField(&out, f.name, replace[low].Value, nl)
			continue
		}
		out.Write(f.raw)
		if !bytes.HasSuffix(f.raw, []byte("\n")) {
			out.WriteString(nl)
		}
	}
	for i := range edits {
		e := &edits[i]
		low := strings.ToLower(e.Name)
		switch {
		case !validName([]byte(e.Name)) || e.Name == "":
			continue
		case e.Op == OpReplace && replace[low] == e && !done[low]:
			done[low] = true
			writeField(&out, e.Name, e.Value, nl)
		case e.Op == OpAdd:
			writeField(&out, e.Name, e.Value, nl)
		}
	}
	return out.Bytes()
}

// writeField writes "name: value" and a line end, keeping only the line
// breaks of value that fold (followed by a space or tab) and ending them
// with nl.
func writeField(b *bytes.Buffer, name, value, nl string) {
	b.WriteString(name)
	b.WriteString(": ")
	for i, line := range strings.Split(value, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i > 0 {
			if line != "" && (line[0] == ' ' || line[0] == '\t') && strings.TrimLeft(line, " \t") != "" {
				b.WriteString(nl)
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(strings.ReplaceAll(line, "\r", " "))
	}
	b.WriteString(nl)
}
