package mimetree

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrTooComplex means a body exceeds Options.MaxDepth or MaxParts.
var ErrTooComplex = errors.New("mimetree: message too complex")

// Defaults of Options.
const (
	DefaultMaxDepth = 50
	DefaultMaxParts = 1000
)

// Options bound a walk. Zero fields take the defaults.
type Options struct {
	MaxDepth int // multipart and message/rfc822 nesting; default 50
	MaxParts int // MIME parts walked; default 1000
	// Shallow leaves message/rfc822 parts unwalked (see Parts).
	Shallow bool
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	return o
}

// Node is one MIME entity of the body, located by byte offsets. Paths
// number leaves the way enmime and IMAP do: children of the top-level
// multipart are "1", "2"; a nested multipart's children "2.1", "2.2"; the
// parts of a message/rfc822 at "3" are "3.1", "3.2", or "3.1" alone when
// that message is not multipart.
type Node struct {
	Path      string
	Parent    *Node // enclosing multipart, or the message/rfc822 part of an encapsulated root
	Top       bool  // the top-level entity: its header is outside the body
	Delim     int   // where its delimiter starts (the line break before "--b"); -1 when none
	DelimLine int   // where its delimiter line ("--b") starts; -1 when none
	Start     int   // first byte of its header
	BodyStart int   // first byte of its body
	End       int   // offset after its last byte (before the next delimiter's line break)
	Fields    []Field
	Type      MediaType
	Kids      []*Node // parts of a multipart, in order
	// Proxy is set on the single body of an encapsulated message: replacing
	// it replaces the whole message/rfc822 part, whose header says what the
	// body is.
	Proxy *Node
	// Opaque is set on a message/rfc822 part whose transfer encoding hides
	// the inner bytes: anything inside it is replaced by replacing it.
	Opaque bool
	Inner  *Node // the walked message inside a message/rfc822 part
	// NoBreak is set when no line break separates the part from the next
	// delimiter: a replacement must bring its own.
	NoBreak bool
}

// IsMultipart tells whether n is walked as a multipart, as enmime does: at
// the top a multipart/* type with a boundary; below it any part with a
// boundary parameter except text/plain and text/html.
func (n *Node) IsMultipart() bool {
	b := n.Type.Params["boundary"]
	if b == "" {
		return false
	}
	if n.Top {
		return strings.HasPrefix(n.Type.Type, "multipart/")
	}
	return n.Type.Type != "text/plain" && n.Type.Type != "text/html"
}

// IsMessage tells whether n is an encapsulated message.
func (n *Node) IsMessage() bool {
	return n.Type.Type == "message/rfc822" || n.Type.Type == "message/global"
}

// Tree is a walked body.
type Tree struct {
	Body  []byte
	Root  *Node
	Paths map[string]*Node // every node that has a path
	count int
	opt   Options
}

// Walk builds the tree of body whose top-level header is header, down into
// message/rfc822 parts unless opt.Shallow. Beyond opt's limits it fails
// with ErrTooComplex.
func Walk(header, body []byte, opt Options) (*Tree, error) {
	fields := Fields(header, 0, len(header))
	t := &Tree{Body: body, Paths: map[string]*Node{}, opt: opt.withDefaults()}
	t.Root = &Node{Top: true, Delim: -1, DelimLine: -1, End: len(body), Fields: fields,
		Type: ParseMediaType(Value(fields, "Content-Type"))}
	if err := t.entity(t.Root, "", 0); err != nil {
		return nil, err
	}
	return t, nil
}

// entity walks n, whose fields and byte range are set; prefix is the path
// of the message that holds it ("" at top level).
func (t *Tree) entity(n *Node, prefix string, depth int) error {
	if depth > t.opt.MaxDepth {
		return fmt.Errorf("mimetree walk: %w: more than %d levels", ErrTooComplex, t.opt.MaxDepth)
	}
	if n.IsMultipart() {
		return t.multipart(n, prefix, depth)
	}
	if n.Path == "" { // the single body of a message
		n.Path = join(prefix, "1")
	}
	t.Paths[n.Path] = n
	if !n.IsMessage() || t.opt.Shallow {
		return nil
	}
	if !IsIdentityCTE(Value(n.Fields, "Content-Transfer-Encoding")) {
		n.Opaque = true
		return nil
	}
	return t.encapsulated(n, depth)
}

// encapsulated walks the message inside the message/rfc822 part n.
func (t *Tree) encapsulated(n *Node, depth int) error {
	hdrEnd, bodyStart := SplitHeader(t.Body, n.BodyStart, n.End)
	inner := &Node{Parent: n, Delim: -1, DelimLine: -1, Start: n.BodyStart, BodyStart: bodyStart, End: n.End,
		Fields: Fields(t.Body, n.BodyStart, hdrEnd)}
	// The inner top level follows the top-level rule: multipart/* only.
	inner.Type = ParseMediaType(Value(inner.Fields, "Content-Type"))
	if !strings.HasPrefix(inner.Type.Type, "multipart/") {
		inner.Type.Params = map[string]string{}
	}
	n.Inner = inner
	if !inner.IsMultipart() {
		inner.Path = join(n.Path, "1")
		inner.Proxy = n
	}
	if err := t.add(); err != nil {
		return err
	}
	return t.entity(inner, n.Path, depth+1)
}

func (t *Tree) add() error {
	t.count++
	if t.count > t.opt.MaxParts {
		return fmt.Errorf("mimetree walk: %w: more than %d parts", ErrTooComplex, t.opt.MaxParts)
	}
	return nil
}

func join(prefix, id string) string {
	if prefix == "" {
		return id
	}
	return prefix + "." + id
}

// multipart walks the parts of n.
func (t *Tree) multipart(n *Node, prefix string, depth int) error {
	if n.Path != "" {
		t.Paths[n.Path] = n
	}
	ds := delimiters(t.Body, n.BodyStart, n.End, n.Type.Params["boundary"])
	prevEnd := n.BodyStart // a deletion must not reach into the previous part
	for i, d := range ds {
		if d.close {
			break
		}
		end := n.End
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
		hdrEnd, bodyStart := SplitHeader(t.Body, d.next, end)
		k := &Node{
			Path: join(childPrefix(n, prefix), strconv.Itoa(i+1)), Parent: n,
			Delim: max(d.brk, prevEnd), DelimLine: d.line, Start: d.next, BodyStart: bodyStart, End: end,
			Fields:  Fields(t.Body, d.next, hdrEnd),
			NoBreak: noBreak,
		}
		k.Type = ParseMediaType(Value(k.Fields, "Content-Type"))
		n.Kids = append(n.Kids, k)
		prevEnd = end
		if err := t.entity(k, prefix, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// childPrefix is the path prefix of n's parts: n's own path below the top,
// the enclosing message's path for a message's top-level multipart.
func childPrefix(n *Node, prefix string) string {
	if n.Path != "" {
		return n.Path
	}
	return prefix
}

// Find returns the node that stands for path when it is replaced: the
// node itself, its proxy, or the opaque message/rfc822 part that holds
// it; false when the body has no such part.
func (t *Tree) Find(path string) (*Node, bool) {
	if n, ok := t.Paths[path]; ok {
		for n.Proxy != nil {
			n = n.Proxy
		}
		return n, true
	}
	for p := path; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
		if n, ok := t.Paths[p]; ok && n.Opaque {
			return n, true
		}
	}
	return nil, false
}
