package htmlsafe

// output collects a rewritten body without copying it as it goes: spans
// of the input (most of it) and the strings put in, joined once at the
// end into a buffer of the exact size (plus room for the banner and the
// signature, which insert then puts in place).
type output struct {
	src   []byte
	strs  []string // the strings put in
	spans []span
	tok   int // offset in src of the token being handled
	n     int
}

// span is src[from:to], or strs[-from-1] when from < 0.
type span struct{ from, to int }

// Write keeps the current token's raw bytes, raw: src[tok:tok+len(raw)].
func (o *output) Write(raw []byte) { o.keep(o.tok, o.tok+len(raw)) }

// keep keeps src[from:to].
func (o *output) keep(from, to int) {
	if to <= from {
		return
	}
	o.n += to - from
	if k := len(o.spans); k > 0 && o.spans[k-1].from >= 0 && o.spans[k-1].to == from {
		o.spans[k-1].to = to
		return
	}
	o.spans = append(o.spans, span{from: from, to: to})
}

// WriteString puts s in.
func (o *output) WriteString(s string) {
	if s == "" {
		return
	}
	o.n += len(s)
	o.strs = append(o.strs, s)
	o.spans = append(o.spans, span{from: -len(o.strs)})
}

// Len is the length written so far.
func (o *output) Len() int { return o.n }

// bytes joins the spans, with extra bytes of spare capacity; owned is
// false when the result is src itself (nothing was changed).
func (o *output) bytes(extra int) (b []byte, owned bool) {
	if len(o.spans) == 1 && o.spans[0].from == 0 && o.spans[0].to == len(o.src) {
		return o.src, false
	}
	b = make([]byte, 0, o.n+extra)
	for _, s := range o.spans {
		if s.from < 0 {
			b = append(b, o.strs[-s.from-1]...)
		} else {
			b = append(b, o.src[s.from:s.to]...)
		}
	}
	return b, true
}
