package rebuild

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// node is one MIME entity of the body, located by byte offsets. Paths
// number leaves the way enmime and IMAP do (pkg/explode walks with Parts): children
// of the top-level multipart are "1", "2"; a nested multipart's children
// "2.1", "2.2"; the parts of a message/rfc822 at "3" are "3.1", "3.2", or
// "3.1" alone when that message is not multipart.
type node struct {
	path      string
	parent    *node // enclosing multipart, or the message/rfc822 part of an encapsulated root
	top       bool  // the top-level entity: its header is outside the body
	delim     int   // where its delimiter starts (the line break before "--b"); -1 when none
	dline     int   // where its delimiter line ("--b") starts; -1 when none
	start     int   // first byte of its header
	bodyStart int   // first byte of its body
	end       int   // offset after its last byte (before the next delimiter's line break)
	fields    []field
	mt        mediaType
	kids      []*node // parts of a multipart, in order
	// proxy is set on the single body of an encapsulated message: replacing
	// it replaces the whole message/rfc822 part, whose header says what the
	// body is.
	proxy *node
	// opaque is set on a message/rfc822 part whose transfer encoding hides
	// the inner bytes: anything inside it is replaced by replacing it.
	opaque bool
	inner  *node // the walked message inside a message/rfc822 part
	// noBreak is set when no line break separates the part from the next
	// delimiter: a replacement must bring its own.
	noBreak bool
}

// isMultipart tells whether n is walked as a multipart, as enmime does: at
// the top a multipart/* type with a boundary; below it any part with a
// boundary parameter except text/plain and text/html.
func (n *node) isMultipart() bool {
	b := n.mt.params["boundary"]
	if b == "" {
		return false
	}
	if n.top {
		return strings.HasPrefix(n.mt.typ, "multipart/")
	}
	return n.mt.typ != "text/plain" && n.mt.typ != "text/html"
}

func (n *node) isMessage() bool {
	return n.mt.typ == "message/rfc822" || n.mt.typ == "message/global"
}

// tree is the walked body.
type tree struct {
	body  []byte
	root  *node
	paths map[string]*node
	count int
	opt   Options
	// shallow leaves message/rfc822 parts unwalked (see Parts).
	shallow bool
}

// walk builds the tree of body whose top-level header is header.
func walk(header, body []byte, opt Options) (*tree, error) {
	return walkLevel(header, body, opt, false)
}

// walkLevel is walk, down into message/rfc822 parts unless shallow.
func walkLevel(header, body []byte, opt Options, shallow bool) (*tree, error) {
	fields := parseFields(header, 0, len(header))
	t := &tree{body: body, paths: map[string]*node{}, opt: opt, shallow: shallow}
	t.root = &node{top: true, delim: -1, dline: -1, end: len(body), fields: fields,
		mt: parseMediaType(value(fields, "Content-Type"))}
	if err := t.entity(t.root, "", 0); err != nil {
		return nil, err
	}
	return t, nil
}

// entity walks n, whose fields and byte range are set; prefix is the path
// of the message that holds it ("" at top level).
func (t *tree) entity(n *node, prefix string, depth int) error {
	if depth > t.opt.MaxDepth {
		return fmt.Errorf("rebuild walk: %w: more than %d levels", ErrTooComplex, t.opt.MaxDepth)
	}
	if n.isMultipart() {
		return t.multipart(n, prefix, depth)
	}
	if n.path == "" { // the single body of a message
		n.path = join(prefix, "1")
	}
	t.paths[n.path] = n
	if !n.isMessage() || t.shallow {
		return nil
	}
	if !isIdentityCTE(value(n.fields, "Content-Transfer-Encoding")) {
		n.opaque = true
		return nil
	}
	return t.encapsulated(n, depth)
}

// encapsulated walks the message inside the message/rfc822 part n.
func (t *tree) encapsulated(n *node, depth int) error {
	hdrEnd, bodyStart := splitHeader(t.body, n.bodyStart, n.end)
	inner := &node{parent: n, delim: -1, dline: -1, start: n.bodyStart, bodyStart: bodyStart, end: n.end,
		fields: parseFields(t.body, n.bodyStart, hdrEnd)}
	// The inner top level follows the top-level rule: multipart/* only.
	inner.mt = parseMediaType(value(inner.fields, "Content-Type"))
	if !strings.HasPrefix(inner.mt.typ, "multipart/") {
		inner.mt.params = map[string]string{}
	}
	n.inner = inner
	if !inner.isMultipart() {
		inner.path = join(n.path, "1")
		inner.proxy = n
	}
	if err := t.add(); err != nil {
		return err
	}
	return t.entity(inner, n.path, depth+1)
}

func (t *tree) add() error {
	t.count++
	if t.count > t.opt.MaxParts {
		return fmt.Errorf("rebuild walk: %w: more than %d parts", ErrTooComplex, t.opt.MaxParts)
	}
	return nil
}

func join(prefix, id string) string {
	if prefix == "" {
		return id
	}
	return prefix + "." + id
}

// delimiter is one boundary line of a multipart.
type delimiter struct {
	brk   int  // start of the line break before it (its own start when none)
	line  int  // start of the "--boundary" line
	next  int  // offset after the delimiter line
	close bool // "--boundary--"
}

// delimiters finds the boundary lines of the multipart body b[start:end]
// up to and including the close delimiter. It reads them as enmime (which
// verify checks against) does, quirks included, so that both number parts
// alike:
// before the first part any line holding "--b" plus a blank, or "--b--",
// counts; later only lines that start so; a delimiter (not a close one)
// must end with a line break.
func delimiters(b []byte, start, end int, boundary string) []delimiter {
	dash := []byte("--" + boundary)
	var out []delimiter
	for pos := start; pos < end; {
		nl, next := lineEnd(b, pos, end)
		line := b[pos:trimCR(b, pos, nl)]
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

// multipart walks the parts of n.
func (t *tree) multipart(n *node, prefix string, depth int) error {
	if n.path != "" {
		t.paths[n.path] = n
	}
	ds := delimiters(t.body, n.bodyStart, n.end, n.mt.params["boundary"])
	prevEnd := n.bodyStart // a deletion must not reach into the previous part
	for i, d := range ds {
		if d.close {
			break
		}
		end := n.end
		if i+1 < len(ds) {
			end = ds[i+1].brk
		}
		noBreak := false
		if end < d.next { // "--b\n--b": the line break is the delimiter line's own
			end, noBreak = d.next, true
		}
		if err := t.add(); err != nil {
			return err
		}
		hdrEnd, bodyStart := splitHeader(t.body, d.next, end)
		k := &node{
			path: join(childPrefix(n, prefix), strconv.Itoa(i+1)), parent: n,
			delim: max(d.brk, prevEnd), dline: d.line, start: d.next, bodyStart: bodyStart, end: end,
			fields:  parseFields(t.body, d.next, hdrEnd),
			noBreak: noBreak,
		}
		k.mt = parseMediaType(value(k.fields, "Content-Type"))
		n.kids = append(n.kids, k)
		prevEnd = end
		if err := t.entity(k, prefix, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// childPrefix is the path prefix of n's parts: n's own path below the top,
// the enclosing message's path for a message's top-level multipart.
func childPrefix(n *node, prefix string) string {
	if n.path != "" {
		return n.path
	}
	return prefix
}

// find returns the node to replace for path: the node itself, its proxy,
// or the opaque message/rfc822 part that holds it.
func (t *tree) find(path string) (*node, error) {
	if n, ok := t.paths[path]; ok {
		for n.proxy != nil {
			n = n.proxy
		}
		return n, nil
	}
	for p := path; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
		if n, ok := t.paths[p]; ok && n.opaque {
			return n, nil
		}
	}
	return nil, fmt.Errorf("rebuild find %q: %w", path, ErrNoPart)
}
