package htmlsafe

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/mimetree"
)

// Edit is one change of the body: Body[Start:End] becomes With (the new
// body of the part at Path, in its own charset and transfer encoding).
type Edit struct {
	Path       string
	Start, End int
	With       []byte
}

// Plan is what Inspect found and the edits that disarm it.
type Plan struct {
	Findings []Finding
	Edits    []Edit
	// Convert lists the HTML parts to make plain text (ConvertDangerous
	// with an allowed dangerous tag in them).
	Convert []string
	// Truncated says a limit stopped the work short (MaxTokens, MaxLinks,
	// MaxBytes): part of the message was not looked at.
	Truncated bool
	// Cosmetic says a signature or a banner was put in.
	Cosmetic bool
}

// Dangerous tells whether the plan rewrites something dangerous.
func (p Plan) Dangerous() bool {
	for _, f := range p.Findings {
		if f.Kind.Dangerous() {
			return true
		}
	}
	return false
}

// leaf is a text body Inspect looks at.
type leaf struct {
	n        *mimetree.Node
	html     bool
	attached bool // inside an attached message: no banner nor signature
}

// Inspect walks the message whose header block is header and whose body
// is body, and rewrites its text and HTML bodies as opt says: kinds in
// mode Disarm, web bugs, phishing links, banners and signatures. Kinds in
// mode Block are the content check's (it replaces such parts); kinds in
// mode Allow are found only for ConvertDangerous. Errors come from the
// MIME walk (limits).
func Inspect(header, body []byte, opt Options) (Plan, error) {
	opt = opt.withDefaults()
	opt.cache = newHostCache()
	t, err := mimetree.Walk(header, body, mimetree.Options{})
	if err != nil {
		return Plan{}, fmt.Errorf("htmlsafe: %w", err)
	}
	var leaves []leaf
	collect(t.Root, false, &leaves)
	dkim := opt.DKIMFriendly && mimetree.Value(mimetree.Fields(header, 0, len(header)), "DKIM-Signature") != ""
	if dkim {
		first := opt
		first.WebBugs, first.SignText, first.SignHTML, first.BannerText = false, "", "", ""
		p := inspect(t, leaves, &first)
		if !p.Dangerous() {
			return p, nil
		}
	}
	return inspect(t, leaves, &opt), nil
}

// collect lists the inline text and HTML leaves in document order.
func collect(n *mimetree.Node, attached bool, out *[]leaf) {
	switch {
	case n.IsMultipart():
		for _, k := range n.Kids {
			collect(k, attached, out)
		}
	case n.IsMessage():
		if n.Inner != nil && !n.Opaque {
			collect(n.Inner, true, out)
		}
	default:
		ty := n.Type.Type
		if ty == "" && n.Top {
			ty = "text/plain"
		}
		if ty != "text/html" && ty != "text/plain" {
			return
		}
		disp := strings.ToLower(strings.TrimSpace(mimetree.Value(n.Fields, "Content-Disposition")))
		if strings.HasPrefix(disp, "attachment") {
			return
		}
		*out = append(*out, leaf{n: n, html: ty == "text/html", attached: attached})
	}
}

// done is one leaf after its rewrite.
type done struct {
	leaf
	c   codec
	r   rewritten
	raw []byte
}

func inspect(t *mimetree.Tree, leaves []leaf, opt *Options) Plan {
	var p Plan
	links := 0
	var parts []*done
	phishing := false
	for _, l := range leaves {
		raw := t.Body[l.n.BodyStart:l.n.End]
		c, ok := newCodec(raw, mimetree.Value(l.n.Fields, "Content-Transfer-Encoding"), l.n.Type.Params["charset"])
		if !ok {
			continue
		}
		if len(raw) > 2*opt.MaxBytes {
			p.Truncated = true
			continue
		}
		text := c.decode(raw)
		if len(text) > opt.MaxBytes {
			p.Truncated = true
			continue
		}
		d := &done{leaf: l, c: c, raw: raw}
		if l.html {
			d.r = rewriteHTML(text, l.n.Path, opt, &links)
		} else {
			d.r = rewriteText(text, l.n.Path, opt, &links)
		}
		p.Truncated = p.Truncated || d.r.truncated
		phishing = phishing || d.r.phishing
		p.Findings = append(p.Findings, d.r.found...)
		if l.html && opt.ConvertDangerous && allowedDanger(d.r.found, opt) {
			p.Convert = append(p.Convert, l.n.Path)
		}
		parts = append(parts, d)
	}
	p.Cosmetic = cosmetic(parts, opt, phishing)
	for _, d := range parts {
		if !d.r.changed {
			continue
		}
		p.Edits = append(p.Edits, Edit{Path: d.n.Path, Start: d.n.BodyStart, End: d.n.End, With: d.c.encode(d.r.out, d.html)})
	}
	p.Findings = aggregate(p.Findings)
	return p
}

// allowedDanger tells a part with a dangerous tag of mode Allow, which
// ConvertDangerous makes plain text.
func allowedDanger(found []Finding, opt *Options) bool {
	for _, f := range found {
		if f.Kind != KindPhishing && f.Kind != KindWebBug && opt.mode(f.Kind) == Allow {
			return true
		}
	}
	return false
}

// cosmetic puts the banners and signatures into the first text and the
// first HTML body of the message itself, and reports whether it did.
func cosmetic(parts []*done, opt *Options, phishing bool) bool {
	var firstText, firstHTML *done
	for _, d := range parts {
		switch {
		case d.attached:
		case d.html && firstHTML == nil:
			firstHTML = d
		case !d.html && firstText == nil:
			firstText = d
		}
	}
	did := false
	for _, d := range []*done{firstText, firstHTML} {
		if d == nil {
			continue
		}
		var top, end []string
		if phishing {
			top = append(top, opt.PhishingBanner)
		}
		if opt.BannerText != "" {
			top = append(top, opt.BannerText)
		}
		sig := opt.SignText
		if d.html {
			sig = opt.SignHTML
		}
		if sig != "" && !signed(d.r.out, sig, d.html) {
			end = append(end, sig)
		}
		if len(top) == 0 && len(end) == 0 {
			continue
		}
		insert(d, top, end)
		did = did || len(end) > 0 || opt.BannerText != ""
	}
	return did
}

// signed tells a body that carries qscan's signature already.
func signed(body []byte, sig string, isHTML bool) bool {
	if isHTML {
		return bytes.Contains(body, []byte(SignatureMark))
	}
	s := strings.TrimSpace(sig)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		s = strings.TrimSpace(s[:i]) // the first line is enough
	}
	return s != "" && bytes.Contains(body, []byte(s))
}

// insert puts banners at the top of a body and signatures at its end.
func insert(d *done, top, end []string) {
	nl := "\n"
	if bytes.Contains(d.r.out, []byte("\r\n")) {
		nl = "\r\n"
	}
	var head, tail strings.Builder
	for _, s := range top {
		if d.html {
			head.WriteString(`<div style="border:2px solid #c00000;padding:4px;margin:4px 0;color:#c00000;font-weight:bold">` +
				htmlASCII(s) + "</div>" + nl)
		} else {
			head.WriteString(strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", nl) + nl + nl)
		}
	}
	for _, s := range end {
		if d.html {
			tail.WriteString(SignatureMark + nl + s + nl)
		} else {
			if n := len(d.r.out); n > 0 && d.r.out[n-1] != '\n' {
				tail.WriteString(nl)
			}
			tail.WriteString(strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", nl) + nl)
		}
	}
	out := d.r.out
	hl, tl := head.Len(), tail.Len()
	if d.r.owned && cap(out) >= len(out)+hl+tl {
		// In place, the later pieces moved first.
		n, at, sig := len(out), d.r.bannerAt, d.r.sigAt
		b := out[:n+hl+tl]
		copy(b[sig+hl+tl:], out[sig:n])
		copy(b[sig+hl:], tail.String())
		copy(b[at+hl:], out[at:sig])
		copy(b[at:], head.String())
		d.r.out, d.r.changed = b, true
		return
	}
	b := make([]byte, 0, len(out)+hl+tl)
	b = append(b, out[:d.r.bannerAt]...)
	b = append(b, head.String()...)
	b = append(b, out[d.r.bannerAt:d.r.sigAt]...)
	b = append(b, tail.String()...)
	b = append(b, out[d.r.sigAt:]...)
	d.r.out, d.r.changed, d.r.owned = b, true, true
}

// aggregate keeps one finding per part and kind, with a count, so that
// 100,000 links make a report of a few lines.
func aggregate(fs []Finding) []Finding {
	type key struct {
		path string
		kind Kind
	}
	idx := map[key]int{}
	var out []Finding
	for _, f := range fs {
		k := key{f.Path, f.Kind}
		if f.Count == 0 {
			f.Count = 1
		}
		if i, ok := idx[k]; ok {
			out[i].Count += f.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, f)
	}
	return out
}
