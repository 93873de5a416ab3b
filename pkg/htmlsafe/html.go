package htmlsafe

import (
	"bytes"
	"errors"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// rewritten is one body after the rewrite: out, and where the banner and
// the signature go in it.
type rewritten struct {
	out       []byte
	changed   bool
	bannerAt  int // offset in out for a banner at the top
	sigAt     int // offset in out for a signature at the end
	found     []Finding
	phishing  bool
	dangerous bool // a dangerous kind was rewritten
	truncated bool
	owned     bool // out is a buffer of ours, with room for insert
}

// add notes a finding: the first of its kind, and a count of the others
// (100,000 links make one finding).
func (r *rewritten) add(f Finding) {
	for i := range r.found {
		if r.found[i].Kind == f.Kind && r.found[i].Path == f.Path {
			r.found[i].Count++
			return
		}
	}
	f.Count = 1
	r.found = append(r.found, f)
}

// rewriter carries the state of one part's rewrite.
type rewriter struct {
	opt      *Options
	path     string
	links    *int // links checked so far in the message
	r        rewritten
	out      output
	drop     atom.Atom // dropping tokens until this end tag
	dropEnds map[atom.Atom]int
	link     *openLink
	attrBuf  []rawAttr
	linkBuf  openLink          // the one open link (links do not nest)
	warnings map[string]string // the warning put beside a link, per target
	bodyAt   int
	headEnd  int
	bodyEnd  int
	htmlEnd  int
}

type openLink struct {
	href string
	text []byte
}

const maxLinkText = 2000

// rewriteHTML disarms one HTML body (UTF-8) as opt says.
func rewriteHTML(data []byte, path string, opt *Options, links *int) rewritten {
	w := &rewriter{opt: opt, path: path, links: links, dropEnds: map[atom.Atom]int{}, warnings: map[string]string{},
		bodyAt: -1, headEnd: -1, bodyEnd: -1, htmlEnd: -1}
	w.out.src = data
	z := html.NewTokenizer(bytes.NewReader(data))
	z.SetMaxBuf(1 << 20)
	pos := 0
	for n := 0; ; n++ {
		if n >= opt.MaxTokens {
			w.r.truncated = true
			w.out.keep(pos, len(data))
			break
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if errors.Is(z.Err(), html.ErrBufferExceeded) {
				w.r.truncated = true
				w.out.keep(pos, len(data))
			}
			break
		}
		raw := z.Raw()
		w.out.tok = pos
		pos += len(raw)
		w.token(z, tt, raw)
	}
	w.closeLink()
	w.r.out, w.r.owned = w.out.bytes(opt.room())
	w.r.bannerAt = max(w.bodyAt, w.headEnd, 0)
	switch {
	case w.bodyEnd >= 0:
		w.r.sigAt = w.bodyEnd
	case w.htmlEnd >= 0:
		w.r.sigAt = w.htmlEnd
	default:
		w.r.sigAt = len(w.r.out)
	}
	if w.r.sigAt < w.r.bannerAt {
		w.r.sigAt = len(w.r.out)
	}
	return w.r
}

func (w *rewriter) find(k Kind, detail string) {
	if len(detail) > 200 {
		detail = detail[:200] + "..."
	}
	w.r.add(Finding{Path: w.path, Kind: k, Detail: detail})
	if k.Dangerous() && (k == KindPhishing || w.opt.mode(k) == Disarm) {
		w.r.dangerous = true
	}
}

// allowed notes a dangerous tag left as it is, for ConvertDangerous.
func (w *rewriter) allowed(k Kind, detail string) {
	if w.opt.ConvertDangerous && w.opt.mode(k) == Allow {
		w.find(k, detail)
	}
}

// marker is what the reader sees in place of a removed element.
func marker(what string) string {
	return `<span style="color:#a00000;font-weight:bold">[qscan: ` + html.EscapeString(what) + ` removed]</span>`
}

func (w *rewriter) cut(k Kind, what, detail string) {
	w.find(k, detail)
	w.out.WriteString(marker(what))
	w.r.changed = true
}

func (w *rewriter) token(z *html.Tokenizer, tt html.TokenType, raw []byte) {
	if w.drop != 0 {
		if tt == html.EndTagToken {
			if name, _ := z.TagName(); atom.Lookup(name) == w.drop {
				w.drop = 0
			}
		}
		return
	}
	switch tt {
	case html.StartTagToken, html.SelfClosingTagToken:
		w.tag(z, tt, raw)
	case html.EndTagToken:
		w.endTag(z, raw)
	case html.TextToken:
		if w.link != nil && len(w.link.text) < maxLinkText {
			if bytes.IndexByte(raw, '&') < 0 {
				w.link.text = append(w.link.text, raw...) // what UnescapeString would return
			} else {
				w.link.text = append(w.link.text, html.UnescapeString(string(raw))...)
			}
		}
		w.out.Write(raw)
	default:
		w.out.Write(raw)
	}
}

func (w *rewriter) endTag(z *html.Tokenizer, raw []byte) {
	name, _ := z.TagName()
	a := atom.Lookup(name)
	if w.dropEnds[a] > 0 {
		w.dropEnds[a]--
		return
	}
	switch a {
	case atom.Form:
		if w.opt.mode(KindForm) == Disarm {
			w.r.changed = true
			return
		}
	case atom.Body:
		w.bodyEnd = w.out.Len()
	case atom.Html:
		w.htmlEnd = w.out.Len()
	case atom.A:
		w.out.Write(raw)
		w.closeLink()
		return
	}
	w.out.Write(raw)
	if a == atom.Head {
		w.headEnd = w.out.Len()
	}
}

// rawAttr is an attribute as the tokenizer holds it (valid until its
// next token): the key in lower case, the value unescaped.
type rawAttr struct{ key, val []byte }

// tag handles a start tag. Most tags (paragraphs, links, cells) need no
// change: they are looked at in the tokenizer's bytes and written as they
// were; only a tag that may change is made an html.Token (as z.Token
// would make it) for startTag.
func (w *rewriter) tag(z *html.Tokenizer, tt html.TokenType, raw []byte) {
	name, more := z.TagName()
	a := atom.Lookup(name)
	w.attrBuf = w.attrBuf[:0]
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		w.attrBuf = append(w.attrBuf, rawAttr{k, v})
	}
	if w.mayChange(a) {
		t := html.Token{Type: tt, Attr: make([]html.Attribute, 0, len(w.attrBuf))}
		for _, ra := range w.attrBuf {
			t.Attr = append(t.Attr, html.Attribute{Key: atom.String(ra.key), Val: string(ra.val)})
		}
		if a != 0 {
			t.DataAtom, t.Data = a, a.String()
		} else {
			t.Data = string(name)
		}
		w.startTag(t, tt, raw)
		return
	}
	if a == atom.A {
		w.closeLink()
		w.openLink("")
		for _, ra := range w.attrBuf {
			if string(ra.key) == "href" {
				w.link.href = string(ra.val)
				break
			}
		}
	}
	w.out.Write(raw)
	if a == atom.Body {
		w.bodyAt = w.out.Len()
	}
}

// mayChange tells a tag startTag may rewrite or report: one of the
// dangerous kinds, an image, or one with an attribute attrs rewrites.
func (w *rewriter) mayChange(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Iframe, atom.Frame, atom.Form, atom.Object, atom.Embed, atom.Applet, atom.Meta, atom.Img:
		return true
	}
	script, form := w.opt.mode(KindScript) == Disarm, w.opt.mode(KindForm) == Disarm
	for _, ra := range w.attrBuf {
		k := ra.key
		switch {
		case script && len(k) >= 2 && k[0] == 'o' && k[1] == 'n':
			return true
		case form && (string(k) == "formaction" || string(k) == "action"):
			return true
		case script && isURLAttr(string(k)) && maybeDangerousURL(ra.val):
			return true
		}
	}
	return false
}

// maybeDangerousURL is a quick dangerousURL: false only when the value is
// ASCII and, blanks and control characters left out, starts with none of
// the schemes dangerousURL looks at.
func maybeDangerousURL(v []byte) bool {
	var head [16]byte
	n := 0
	for _, c := range v {
		if c >= 0x80 {
			return true // dangerousURL decides
		}
		if c <= ' ' {
			continue
		}
		if n < len(head) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			head[n] = c
			n++
		}
	}
	h := string(head[:n])
	for _, p := range []string{"javascript:", "vbscript:", "livescript:", "data:"} {
		if strings.HasPrefix(h, p) || strings.HasPrefix(p, h) && n < len(head) {
			return true
		}
	}
	return false
}

func (w *rewriter) startTag(t html.Token, tt html.TokenType, raw []byte) {
	switch t.DataAtom {
	case atom.Script:
		if !isDataScript(t) && w.opt.mode(KindScript) == Disarm {
			w.cut(KindScript, "script", tagString(t))
			w.drop = atom.Script
			return
		} else if !isDataScript(t) {
			w.allowed(KindScript, tagString(t))
		}
	case atom.Iframe, atom.Frame:
		if w.opt.mode(KindIFrame) == Disarm {
			w.cut(KindIFrame, t.Data, tagString(t))
			if t.DataAtom == atom.Iframe {
				w.drop = atom.Iframe
			}
			return
		}
		w.allowed(KindIFrame, tagString(t))
	case atom.Form:
		if w.opt.mode(KindForm) == Disarm {
			w.cut(KindForm, "form", tagString(t))
			return
		}
		w.allowed(KindForm, tagString(t))
	case atom.Object, atom.Embed, atom.Applet:
		if hasAttr(t, "codebase", "data", "src", "code", "classid", "archive") && w.opt.mode(KindObject) == Disarm {
			w.cut(KindObject, t.Data, tagString(t))
			if t.DataAtom != atom.Embed && tt == html.StartTagToken {
				w.dropEnds[t.DataAtom]++
			}
			return
		} else if hasAttr(t, "codebase", "data", "src", "code", "classid", "archive") {
			w.allowed(KindObject, tagString(t))
		}
	case atom.Meta:
		if strings.EqualFold(attr(t, "http-equiv"), "refresh") && w.opt.mode(KindMetaRefresh) == Disarm {
			w.find(KindMetaRefresh, tagString(t))
			w.out.WriteString("<!-- qscan: meta refresh removed -->")
			w.r.changed = true
			return
		}
	case atom.A:
		w.closeLink()
		w.openLink(attr(t, "href"))
	}
	bug := t.DataAtom == atom.Img && w.webBug(&t)
	if w.attrs(&t) || bug {
		w.r.changed = true
		w.out.WriteString(t.String())
	} else {
		w.out.Write(raw)
	}
	if t.DataAtom == atom.Body {
		w.bodyAt = w.out.Len()
	}
}

// attrs disarms the attributes of a tag that stays: on* handlers,
// script and data links, form actions. It reports whether it changed any.
func (w *rewriter) attrs(t *html.Token) bool {
	script, form := w.opt.mode(KindScript) == Disarm, w.opt.mode(KindForm) == Disarm
	if !script && !form {
		return false
	}
	kept := t.Attr[:0:0]
	changed := false
	for _, a := range t.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case script && strings.HasPrefix(key, "on"):
			w.find(KindScript, "<"+t.Data+" "+key+"=...>")
			changed = true
			continue
		case form && (key == "formaction" || (key == "action" && t.DataAtom != atom.Form)):
			w.find(KindForm, "<"+t.Data+" "+key+"="+a.Val+">")
			changed = true
			continue
		case script && isURLAttr(key) && dangerousURL(a.Val, t.DataAtom, key):
			w.find(KindURL, "<"+t.Data+" "+key+"="+a.Val+">")
			changed = true
			if key == "href" {
				a.Val = "#qscan-removed"
				kept = append(kept, a)
			}
			continue
		}
		kept = append(kept, a)
	}
	if changed {
		t.Attr = kept
	}
	return changed
}

func isURLAttr(k string) bool {
	switch k {
	case "href", "src", "action", "formaction", "background", "lowsrc", "dynsrc", "xlink:href", "poster", "data", "srcdoc", "ping":
		return true
	}
	return false
}

// dangerousURL tells a script or data URL, as a browser reads it: leading
// blanks and embedded tabs and line breaks ignored, any case. Inline
// images (data:image/... but SVG) stay.
func dangerousURL(v string, a atom.Atom, key string) bool {
	if key == "srcdoc" {
		return true
	}
	v = strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, v)
	v = strings.ToLower(v)
	switch {
	case strings.HasPrefix(v, "javascript:"), strings.HasPrefix(v, "vbscript:"), strings.HasPrefix(v, "livescript:"):
		return true
	case strings.HasPrefix(v, "data:"):
		img := a == atom.Img || key == "background" || key == "poster"
		return !(img && strings.HasPrefix(v, "data:image/") && !strings.HasPrefix(v, "data:image/svg"))
	}
	return false
}
