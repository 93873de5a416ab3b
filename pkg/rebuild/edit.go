package rebuild

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

// walk reads the MIME tree of a message within opt's limits.
func walk(header, body []byte, opt Options) (*mimetree.Tree, error) {
	return mimetree.Walk(header, body, mimetree.Options{MaxDepth: opt.MaxDepth, MaxParts: opt.MaxParts})
}

// find returns the node to replace for path (see mimetree.Tree.Find).
func find(t *mimetree.Tree, path string) (*mimetree.Node, error) {
	n, ok := t.Find(path)
	if !ok {
		return nil, fmt.Errorf("rebuild find %q: %w", path, ErrNoPart)
	}
	return n, nil
}

// target is one node to take out, after merging the replacements that
// name it.
type target struct {
	n        *mimetree.Node
	texts    [][]byte
	filename string
	del      bool
	convert  bool
	rename   string // a part kept under this name (renameTargets)
	files    []File // a container delivered as these files (unpackTargets)
	keep     bool   // ... beside the container
}

// targets resolves repl to nodes, merges replacements of the same node,
// drops those inside another target, and turns deletions that would
// leave nothing behind into replacements.
func targets(t *mimetree.Tree, repl []Replacement) ([]*target, error) {
	byNode := map[*mimetree.Node]*target{}
	var order []*target
	for _, r := range repl {
		if r.Rename != "" || len(r.Files) > 0 {
			continue // renameTargets, unpackTargets
		}
		n, err := find(t, r.MIMEPath)
		if err != nil {
			return nil, err
		}
		tg := byNode[n]
		if tg == nil {
			tg = &target{n: n, del: true, convert: true}
			byNode[n] = tg
			order = append(order, tg)
		}
		tg.del = tg.del && r.Delete && !n.Top
		tg.convert = tg.convert && r.Convert
		if tg.filename == "" {
			tg.filename = r.Filename
		}
		if len(r.Text) > 0 && !containsText(tg.texts, r.Text) {
			tg.texts = append(tg.texts, r.Text)
		}
	}
	var kept []*target
	for _, tg := range order {
		if !insideTarget(tg.n, byNode) {
			kept = append(kept, tg)
		}
	}
	keepOne(kept)
	return kept, nil
}

func containsText(texts [][]byte, t []byte) bool {
	for _, x := range texts {
		if bytes.Equal(x, t) {
			return true
		}
	}
	return false
}

func insideTarget(n *mimetree.Node, byNode map[*mimetree.Node]*target) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if byNode[p] != nil {
			return true
		}
	}
	return false
}

// keepOne makes sure no multipart loses all its parts: RFC 2046 wants at
// least one, so the last deletion there becomes a replacement.
func keepOne(targets []*target) {
	deleted := map[*mimetree.Node]int{}
	last := map[*mimetree.Node]*target{}
	for _, tg := range targets {
		if tg.del && tg.n.Parent != nil {
			deleted[tg.n.Parent]++
			last[tg.n.Parent] = tg
		}
	}
	for p, n := range deleted {
		if n == len(p.Kids) {
			last[p].del = false
		}
	}
}

// editor collects the splices and header edits of one rebuild.
type editor struct {
	t       *mimetree.Tree
	opt     Options
	nl      string
	splices []edit
	set     []Field
	del     []string
	mixed   map[*mimetree.Node]bool // parents already turned into multipart/mixed
	wrap    bool
}

// contentFields are the top-level fields that describe the body.
var contentFields = []string{"Content-Disposition", "Content-Description", "Content-ID",
	"Content-MD5", "Content-Location", "Content-Language", "Content-Base"}

func (e *editor) target(tg *target) {
	n := tg.n
	text := bytes.Join(tg.texts, []byte("\n"))
	switch {
	case n.Top:
		cte, enc := EncodeText(text, e.nl)
		e.splices = append(e.splices, edit{0, len(e.t.Body), enc})
		e.set = append(e.set, Field{"MIME-Version", "1.0"},
			Field{"Content-Type", "text/plain; charset=utf-8"},
			Field{"Content-Transfer-Encoding", cte})
		e.del = append(e.del, contentFields...)
	case tg.del:
		e.splices = append(e.splices, edit{n.Delim, n.End, nil})
	default:
		part := e.part(text, tg.filename, e.opt.InlineParts || tg.convert, tg.convert)
		if n.NoBreak || n.End == len(e.t.Body) {
			part = append(part, e.nl...)
		}
		e.splices = append(e.splices, edit{n.Start, n.End, part})
		if !tg.convert || n.Parent == nil || n.Parent.Type.Type != "multipart/alternative" {
			e.toMixed(n.Parent)
		}
	}
}

// part is a complete text/plain MIME part (header and body) holding text,
// named filename (or Options.WarningFilename) unless unnamed.
func (e *editor) part(text []byte, filename string, inline, unnamed bool) []byte {
	cte, enc := EncodeText(text, e.nl)
	name := cleanFilename(filename, e.opt.WarningFilename)
	var b bytes.Buffer
	if unnamed {
		b.WriteString("Content-Type: text/plain; charset=utf-8" + e.nl)
	} else {
		b.WriteString("Content-Type: " + formatParam("text/plain; charset=utf-8", "name", name) + e.nl)
	}
	b.WriteString("Content-Transfer-Encoding: " + cte + e.nl)
	switch {
	case inline:
		b.WriteString("Content-Disposition: inline" + e.nl)
	default:
		b.WriteString("Content-Disposition: " + formatParam("attachment", "filename", name) + e.nl)
	}
	b.WriteString(e.nl)
	b.Write(enc)
	return b.Bytes()
}

// toMixed turns a multipart/alternative or multipart/related parent into
// multipart/mixed, as MailScanner does: a reader would otherwise see only
// one alternative, or the warning hidden as a related resource.
func (e *editor) toMixed(p *mimetree.Node) {
	if p == nil || e.mixed[p] || (p.Type.Type != "multipart/alternative" && p.Type.Type != "multipart/related") {
		return
	}
	if e.mixed == nil {
		e.mixed = map[*mimetree.Node]bool{}
	}
	e.mixed[p] = true
	f, ok := mimetree.Lookup(p.Fields, "Content-Type")
	if !ok {
		return
	}
	if p.Top {
		if v, ok := mixedValue(f.Value); ok {
			e.set = append(e.set, Field{"Content-Type", v})
		}
		return
	}
	raw := e.t.Body[f.Colon+1 : f.End]
	if i, j, ok := subtypeSpan(raw); ok {
		e.splices = append(e.splices, edit{f.Colon + 1 + i, f.Colon + 1 + j, []byte("mixed")})
	}
}

// mixedValue rewrites the subtype of a one-line Content-Type value.
func mixedValue(v string) (string, bool) {
	i, j, ok := subtypeSpan([]byte(v))
	if !ok {
		return "", false
	}
	return v[:i] + "mixed" + v[j:], true
}

// subtypeSpan finds the subtype token in a "multipart/xxx; ..." value.
func subtypeSpan(v []byte) (i, j int, ok bool) {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
		i++
	}
	const mp = "multipart/"
	if len(v)-i < len(mp) || !strings.EqualFold(string(v[i:i+len(mp)]), mp) {
		return 0, 0, false
	}
	i += len(mp)
	j = i
	for j < len(v) && isToken(v[j]) {
		j++
	}
	return i, j, j > i
}

func isToken(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
}

// warning puts the inline warning first: a new first part of a top-level
// multipart/mixed, or else a wrapping multipart/mixed.
func (e *editor) warning() {
	root := e.t.Root
	if !root.IsMultipart() || root.Type.Type != "multipart/mixed" || len(root.Kids) == 0 {
		e.wrap = true
		return
	}
	k := root.Kids[0]
	dash := "--" + root.Type.Params["boundary"]
	part := e.part(e.opt.InlineWarning, "", true, true)
	var ins []byte
	if k.Delim < k.DelimLine { // a line break precedes the first delimiter: put ours before it
		ins = append([]byte(e.nl+dash+e.nl), part...)
		ins = bytes.TrimSuffix(ins, []byte(e.nl))
	} else {
		ins = append([]byte(dash+e.nl), part...)
	}
	e.splices = append(e.splices, edit{k.Delim, k.Delim, ins})
}
