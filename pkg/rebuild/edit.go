package rebuild

import (
	"bytes"
	"strings"
)

// target is one node to take out, after merging the replacements that
// name it.
type target struct {
	n        *node
	texts    [][]byte
	filename string
	del      bool
	convert  bool
}

// targets resolves repl to nodes, merges replacements of the same node,
// drops those inside another target, and turns deletions that would
// leave nothing behind into replacements.
func (t *tree) targets(repl []Replacement) ([]*target, error) {
	byNode := map[*node]*target{}
	var order []*target
	for _, r := range repl {
		n, err := t.find(r.MIMEPath)
		if err != nil {
			return nil, err
		}
		tg := byNode[n]
		if tg == nil {
			tg = &target{n: n, del: true, convert: true}
			byNode[n] = tg
			order = append(order, tg)
		}
		tg.del = tg.del && r.Delete && !n.top
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

func insideTarget(n *node, byNode map[*node]*target) bool {
	for p := n.parent; p != nil; p = p.parent {
		if byNode[p] != nil {
			return true
		}
	}
	return false
}

// keepOne makes sure no multipart loses all its parts: RFC 2046 wants at
// least one, so the last deletion there becomes a replacement.
func keepOne(targets []*target) {
	deleted := map[*node]int{}
	last := map[*node]*target{}
	for _, tg := range targets {
		if tg.del && tg.n.parent != nil {
			deleted[tg.n.parent]++
			last[tg.n.parent] = tg
		}
	}
	for p, n := range deleted {
		if n == len(p.kids) {
			last[p].del = false
		}
	}
}

// editor collects the splices and header edits of one rebuild.
type editor struct {
	t       *tree
	opt     Options
	nl      string
	splices []edit
	set     []Field
	del     []string
	mixed   map[*node]bool // parents already turned into multipart/mixed
	wrap    bool
}

// contentFields are the top-level fields that describe the body.
var contentFields = []string{"Content-Disposition", "Content-Description", "Content-ID",
	"Content-MD5", "Content-Location", "Content-Language", "Content-Base"}

func (e *editor) target(tg *target) {
	n := tg.n
	text := bytes.Join(tg.texts, []byte("\n"))
	switch {
	case n.top:
		cte, enc := EncodeText(text, e.nl)
		e.splices = append(e.splices, edit{0, len(e.t.body), enc})
		e.set = append(e.set, Field{"MIME-Version", "1.0"},
			Field{"Content-Type", "text/plain; charset=utf-8"},
			Field{"Content-Transfer-Encoding", cte})
		e.del = append(e.del, contentFields...)
	case tg.del:
		e.splices = append(e.splices, edit{n.delim, n.end, nil})
	default:
		part := e.part(text, tg.filename, e.opt.InlineParts || tg.convert, tg.convert)
		if n.noBreak || n.end == len(e.t.body) {
			part = append(part, e.nl...)
		}
		e.splices = append(e.splices, edit{n.start, n.end, part})
		if !tg.convert || n.parent == nil || n.parent.mt.typ != "multipart/alternative" {
			e.toMixed(n.parent)
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
func (e *editor) toMixed(p *node) {
	if p == nil || e.mixed[p] || (p.mt.typ != "multipart/alternative" && p.mt.typ != "multipart/related") {
		return
	}
	if e.mixed == nil {
		e.mixed = map[*node]bool{}
	}
	e.mixed[p] = true
	f, ok := lookup(p.fields, "Content-Type")
	if !ok {
		return
	}
	if p.top {
		if v, ok := mixedValue(f.value); ok {
			e.set = append(e.set, Field{"Content-Type", v})
		}
		return
	}
	raw := e.t.body[f.colon+1 : f.end]
	if i, j, ok := subtypeSpan(raw); ok {
		e.splices = append(e.splices, edit{f.colon + 1 + i, f.colon + 1 + j, []byte("mixed")})
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
	root := e.t.root
	if !root.isMultipart() || root.mt.typ != "multipart/mixed" || len(root.kids) == 0 {
		e.wrap = true
		return
	}
	k := root.kids[0]
	dash := "--" + root.mt.params["boundary"]
	part := e.part(e.opt.InlineWarning, "", true, true)
	var ins []byte
	if k.delim < k.dline { // a line break precedes the first delimiter: put ours before it
		ins = append([]byte(e.nl+dash+e.nl), part...)
		ins = bytes.TrimSuffix(ins, []byte(e.nl))
	} else {
		ins = append([]byte(dash+e.nl), part...)
	}
	e.splices = append(e.splices, edit{k.delim, k.delim, ins})
}
