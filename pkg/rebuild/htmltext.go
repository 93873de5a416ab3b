package rebuild

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxURL bounds a link target shown in the text, in bytes.
const maxURL = 2048

// cutMark ends a text that hit a limit, when it fits.
const cutMark = "\n[...]\n"

// HTMLText returns the plain text of the HTML document src (UTF-8): text
// nodes with runs of blanks collapsed; line breaks for <br>, <p>, <div>,
// <li>, <tr> and the other blocks; nothing of <head>, <script>, <style>,
// <title> and <template>; entities decoded; links shown as
// "text <url>". It reads at most maxTokens HTML tokens (DefaultMaxTokens
// when <= 0) and never returns more than len(src) bytes; cut reports
// that a limit ended the text early.
func HTMLText(src []byte, maxTokens int) (text []byte, cut bool) {
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	c := converter{w: textWriter{max: len(src)}}
	z := html.NewTokenizer(bytes.NewReader(src))
	for n := 0; ; n++ {
		if n >= maxTokens {
			cut = true
			break
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: the input is in memory, nothing else can fail
		}
		c.token(z, tt)
		if c.w.full {
			cut = true
			break
		}
	}
	return c.w.finish(cut), cut
}

// converter follows the elements that change how text is written.
type converter struct {
	w      textWriter
	skip   int  // depth inside elements whose text is not shown
	inHead bool // inside <head>, which has no shown text
	pre    int  // depth inside <pre>: blanks kept
	href   string
	linkAt int // where the link's text starts in w
}

func (c *converter) token(z *html.Tokenizer, tt html.TokenType) {
	switch tt {
	case html.TextToken:
		if c.skip > 0 || c.inHead {
			return
		}
		if c.pre > 0 {
			c.w.pre(string(z.Text()))
		} else {
			c.w.text(string(z.Text()))
		}
	case html.StartTagToken, html.SelfClosingTagToken:
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		if a == atom.A && hasAttr && tt == html.StartTagToken {
			c.href, c.linkAt = linkTarget(z), c.w.b.Len()
		}
		c.start(a, tt == html.SelfClosingTagToken)
	case html.EndTagToken:
		name, _ := z.TagName()
		c.end(atom.Lookup(name))
	}
}

func (c *converter) start(a atom.Atom, selfClosing bool) {
	switch {
	case a == atom.Head:
		c.inHead = !selfClosing
		return
	case c.inHead && !inHeadElement(a):
		c.inHead = false // a body element closes an unclosed <head>, as in browsers
	}
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Template:
		if !selfClosing {
			c.skip++
		}
	case atom.Br:
		c.w.lineBreak()
	case atom.Li:
		c.w.newline(1)
		c.w.word("*")
		c.w.blank()
	case atom.Td, atom.Th:
		c.w.blank()
	case atom.Pre:
		c.w.newline(2)
		if !selfClosing {
			c.pre++
		}
	default:
		c.w.newline(blockBreaks(a))
	}
}

func (c *converter) end(a atom.Atom) {
	switch a {
	case atom.Head:
		c.inHead = false
	case atom.Script, atom.Style, atom.Title, atom.Template:
		c.skip = max(c.skip-1, 0)
	case atom.Pre:
		c.pre = max(c.pre-1, 0)
		c.w.newline(2)
	case atom.A:
		c.link()
	default:
		c.w.newline(blockBreaks(a))
	}
}

// link shows the target of the link that ends, after its text, unless
// the text already says it.
func (c *converter) link() {
	href := c.href
	c.href = ""
	if href == "" || c.linkAt > c.w.b.Len() {
		return
	}
	shown := strings.TrimSpace(c.w.b.String()[c.linkAt:])
	if shown == href || "mailto:"+shown == href {
		return
	}
	c.w.blank()
	c.w.word("<" + href + ">")
}

// linkTarget is the href of the <a> tag being read, made one short line;
// "" for script and in-page links, which say nothing to a reader.
func linkTarget(z *html.Tokenizer) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == "href" {
			href := strings.Join(strings.FieldsFunc(strings.ToValidUTF8(string(v), ""), isBlankOrControl), "")
			lower := strings.ToLower(href)
			if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(lower, "javascript:") ||
				strings.HasPrefix(lower, "data:") || len(href) > maxURL {
				return ""
			}
			return href
		}
		if !more {
			return ""
		}
	}
}

// inHeadElement tells the elements that may stand in <head>.
func inHeadElement(a atom.Atom) bool {
	switch a {
	case atom.Title, atom.Meta, atom.Link, atom.Style, atom.Script, atom.Base, atom.Template, atom.Noscript:
		return true
	}
	return false
}

// blockBreaks is the line breaks around element a: 2 (a blank line) for
// paragraphs and the like, 1 for other blocks, 0 for inline elements.
func blockBreaks(a atom.Atom) int {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote,
		atom.Table, atom.Ul, atom.Ol, atom.Dl:
		return 2
	case atom.Div, atom.Tr, atom.Li, atom.Dt, atom.Dd, atom.Hr, atom.Section, atom.Article,
		atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Main, atom.Form, atom.Fieldset,
		atom.Address, atom.Figure, atom.Figcaption, atom.Caption, atom.Center, atom.Body, atom.Html:
		return 1
	}
	return 0
}

func isBlankOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r)
}

// textWriter builds the text: runs of blanks become one space, block
// boundaries line breaks (at most one blank line in a row), and nothing
// is written past max bytes.
type textWriter struct {
	b       bytes.Buffer
	max     int
	space   bool // a blank is pending before the next word
	breaks  int  // line breaks pending before the next word
	full    bool // max was reached: the text is cut
	started bool // a word was written
}

// newline asks for n line breaks (1 ends the line, 2 leaves a blank
// line) before the next word.
func (w *textWriter) newline(n int) {
	if w.started && n > 0 {
		w.breaks = max(w.breaks, n)
	}
}

// lineBreak is <br>: each one ends a line, two leave a blank line.
func (w *textWriter) lineBreak() {
	if w.started {
		w.breaks = min(w.breaks+1, 2)
	}
}

// blank asks for a space before the next word.
func (w *textWriter) blank() {
	if w.started {
		w.space = true
	}
}

// text writes HTML text with its blanks collapsed and control
// characters dropped.
func (w *textWriter) text(s string) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			if start >= 0 {
				w.word(s[start:i])
				start = -1
			}
			if unicode.IsSpace(r) {
				w.blank()
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		w.word(s[start:])
	}
}

// pre writes the text of a <pre> element with its blanks and lines.
func (w *textWriter) pre(s string) {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return
	}
	w.flush()
	w.put(s)
	w.started = true
}

// word writes s (no blanks) after what is pending.
func (w *textWriter) word(s string) {
	w.flush()
	w.put(s)
	w.started = true
}

func (w *textWriter) flush() {
	switch {
	case w.breaks > 0:
		w.put(strings.Repeat("\n", w.breaks))
	case w.space:
		w.put(" ")
	}
	w.breaks, w.space = 0, false
}

// put appends s, or as much of it as fits in max at a rune boundary.
func (w *textWriter) put(s string) {
	if w.full {
		return
	}
	if room := w.max - w.b.Len(); len(s) > room {
		s = s[:room]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		w.full = true
	}
	w.b.WriteString(s)
}

// finish ends the text with a line break, and with the cut mark when a
// limit stopped it and the mark fits.
func (w *textWriter) finish(cut bool) []byte {
	out := bytes.TrimRight(w.b.Bytes(), " \t\n")
	if len(out) > 0 && len(out) < w.max {
		out = append(out, '\n')
	}
	if cut && len(out)+len(cutMark) <= w.max {
		out = append(out, cutMark[1:]...)
	}
	return out
}
