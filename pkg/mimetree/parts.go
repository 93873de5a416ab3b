package mimetree

// Entity is one MIME entity of a message level, located in the message's
// bytes. Parts returns them for pkg/explode, so that the parts the checks
// look at are, byte for byte and path for path, the parts pkg/rebuild
// replaces.
type Entity struct {
	// Path is the MIME path ("1", "2.1" ...) as rebuild.Replacement.MIMEPath
	// takes it; "" for a top-level multipart.
	Path string
	// Header is the entity's header block; for the single body of a
	// message it is the message header.
	Header []byte
	// Body is the entity's body, transfer encoding not undone. It shares
	// the caller's array (capacity clipped: appending to it copies).
	Body []byte
	// Multipart is set on a multipart entity; its parts follow it.
	Multipart bool
	// Boundary is a multipart's boundary parameter as the walk read it.
	Boundary string
	// Level is the multipart nesting: 0 for the top-level entity, 1 for
	// the parts of a top-level multipart, and so on.
	Level int
}

// Parts walks one level of the message raw (header and body, as read
// from a file): every multipart and leaf in document order, depth first.
// A message/rfc822 part is a leaf: the caller walks what it holds, after
// undoing its transfer encoding. The walk costs time linear in len(raw)
// and copies no body bytes; it fails with ErrTooComplex beyond maxParts
// parts or maxDepth nested multiparts (0: the defaults).
func Parts(raw []byte, maxParts, maxDepth int) ([]Entity, error) {
	hdrEnd, bodyStart := SplitHeader(raw, 0, len(raw))
	header, body := raw[:hdrEnd:hdrEnd], raw[bodyStart:]
	t, err := Walk(header, body, Options{MaxParts: maxParts, MaxDepth: maxDepth, Shallow: true})
	if err != nil {
		return nil, err
	}
	var out []Entity
	var visit func(n *Node, level int)
	visit = func(n *Node, level int) {
		e := Entity{Path: n.Path, Body: body[n.BodyStart:n.End:n.End], Level: level}
		if n.Top {
			e.Header = header
		} else {
			e.Header = body[n.Start:n.BodyStart:n.BodyStart]
		}
		if n.IsMultipart() {
			e.Multipart, e.Boundary = true, n.Type.Params["boundary"]
		}
		out = append(out, e)
		for _, k := range n.Kids {
			visit(k, level+1)
		}
	}
	visit(t.Root, 0)
	return out, nil
}
