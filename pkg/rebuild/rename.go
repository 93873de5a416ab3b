package rebuild

import (
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

// renameTargets resolves the renames of repl to the nodes they name
// (the part itself, never its proxy: its own header carries the name).
// A rename of a node that is replaced, or lies inside one, is dropped.
func renameTargets(t *mimetree.Tree, repl []Replacement, replaced []*target) ([]*target, error) {
	gone := map[*mimetree.Node]*target{}
	for _, tg := range replaced {
		gone[tg.n] = tg
	}
	var out []*target
	seen := map[*mimetree.Node]bool{}
	for _, r := range repl {
		if r.Rename == "" {
			continue
		}
		n, ok := t.Paths[r.MIMEPath]
		if !ok {
			return nil, fmt.Errorf("rebuild rename %q: %w", r.MIMEPath, ErrNoPart)
		}
		if n.IsMultipart() {
			return nil, fmt.Errorf("rebuild rename %q: %w: a multipart has no file name", r.MIMEPath, ErrNoPart)
		}
		if gone[n] != nil || insideTarget(n, gone) || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, &target{n: n, rename: cleanFilename(r.Rename, "attachment.disarmed")})
	}
	return out, nil
}

// rename gives the part of tg its new name: the name parameters of its
// Content-Type and the filename parameters of its Content-Disposition
// (RFC 2231 forms included) are rewritten, a Content-Disposition is
// added when it has none; every other byte stays.
func (e *editor) rename(tg *target) {
	n := tg.n
	var disposition bool
	for _, f := range n.Fields {
		key := paramFor(f.Name)
		if key == "" {
			continue
		}
		disposition = disposition || key == "filename"
		v, had := renameParam(f.Value, key, tg.rename)
		if !had && key == "name" {
			continue // no name to change: leave the field as it is
		}
		if n.Top {
			e.set = append(e.set, Field{f.Name, strings.Join(v, "; ")})
			continue
		}
		line := string(f.RawName(e.t.Body)) + ": " + strings.Join(v, ";"+e.nl+"\t") + e.nl
		e.splices = append(e.splices, edit{f.Start, f.End, []byte(line)})
	}
	if disposition {
		return
	}
	v := formatParam("attachment", "filename", tg.rename)
	if n.Top {
		e.set = append(e.set, Field{"Content-Disposition", v})
		return
	}
	e.splices = append(e.splices, edit{n.Start, n.Start, []byte("Content-Disposition: " + v + e.nl)})
}

// paramFor is the file-name parameter of a field: "name" for
// Content-Type, "filename" for Content-Disposition, "" for others.
func paramFor(field string) string {
	switch strings.ToLower(field) {
	case "content-type":
		return "name"
	case "content-disposition":
		return "filename"
	}
	return ""
}

// renameParam returns the segments of a Content-Type or -Disposition
// value with every form of parameter key (key, key*, key*0, key*0* ...)
// replaced by one key=name where the first stood, appended when there
// was none; had says whether there was one. Other segments keep their
// text (quoted strings and comments included).
func renameParam(value, key, name string) (segs []string, had bool) {
	raw := rawSegments(value)
	segs = []string{strings.TrimSpace(raw[0])}
	newParam := strings.TrimPrefix(formatParam("", key, name), "; ")
	for _, s := range raw[1:] {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pname, _, _ := strings.Cut(s, "=")
		if paramBase(pname) != key {
			segs = append(segs, s)
			continue
		}
		if !had {
			segs = append(segs, newParam)
			had = true
		}
	}
	if !had {
		segs = append(segs, newParam)
	}
	return segs, had
}

// paramBase is a parameter name without its RFC 2231 suffixes, lower
// case: "filename*0*" is "filename".
func paramBase(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if i := strings.IndexByte(p, '*'); i >= 0 {
		p = p[:i]
	}
	return p
}

// rawSegments splits a header value at the semicolons outside quoted
// strings and comments, keeping every other byte (unlike
// mimetree.SplitParams, which reads the values).
func rawSegments(v string) []string {
	var segs []string
	depth, quoted, escaped, start := 0, false, false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			quoted = c != '"'
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '"':
			quoted = true
		case c == ';':
			segs = append(segs, v[start:i])
			start = i + 1
		}
	}
	return append(segs, v[start:])
}
