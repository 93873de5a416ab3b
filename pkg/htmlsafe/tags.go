package htmlsafe

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// Web bugs, the links being read for phishing, and token helpers.

// webBug replaces the source of a remote image of at most 2x2 pixels or
// from a known web bug server.
func (w *rewriter) webBug(t *html.Token) bool {
	if !w.opt.WebBugs {
		return false
	}
	for i, a := range t.Attr {
		if !strings.EqualFold(a.Key, "src") {
			continue
		}
		src := strings.TrimSpace(a.Val)
		low := strings.ToLower(src)
		if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "//") {
			return false
		}
		if !w.isWebBug(t, low) {
			return false
		}
		w.find(KindWebBug, src)
		t.Attr[i].Val = w.opt.WebBugReplacement
		return true
	}
	return false
}

func (w *rewriter) isWebBug(t *html.Token, src string) bool {
	host, file := src, ""
	if i := strings.Index(host, "//"); i >= 0 {
		host = host[i+2:]
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host, file = host[:i], host[i:]
	}
	if i := strings.IndexAny(file, "?#"); i >= 0 {
		file = file[:i]
	}
	file = file[strings.LastIndexByte(file, '/')+1:]
	for _, ig := range w.opt.IgnoredWebBugFiles {
		if ig != "" && strings.Contains(file, strings.ToLower(ig)) {
			return false
		}
	}
	for _, s := range w.opt.WebBugServers {
		if s != "" && strings.Contains(host, strings.ToLower(s)) {
			return true
		}
	}
	wd, hd := pixels(attr(*t, "width")), pixels(attr(*t, "height"))
	style := strings.ReplaceAll(strings.ToLower(attr(*t, "style")), " ", "")
	if wd < 0 {
		wd = styleSize(style, "width:")
	}
	if hd < 0 {
		hd = styleSize(style, "height:")
	}
	return wd >= 0 && hd >= 0 && wd <= 2 && hd <= 2
}

// pixels reads a size attribute ("1", "1px"); -1 when absent or not a
// number.
func pixels(v string) int {
	v = strings.TrimSuffix(strings.TrimSpace(strings.ToLower(v)), "px")
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func styleSize(style, prop string) int {
	i := strings.Index(style, prop)
	if i < 0 || (i > 0 && style[i-1] != ';' && style[i-1] != '"') {
		return -1
	}
	v := style[i+len(prop):]
	if j := strings.IndexByte(v, ';'); j >= 0 {
		v = v[:j]
	}
	return pixels(v)
}

// openLink starts a link, in the rewriter's one openLink.
func (w *rewriter) openLink(href string) {
	w.linkBuf.href, w.linkBuf.text = href, w.linkBuf.text[:0]
	w.link = &w.linkBuf
}

// closeLink checks the link just closed and writes the warning beside it.
func (w *rewriter) closeLink() {
	l := w.link
	w.link = nil
	if l == nil || !w.opt.Phishing || l.href == "" {
		return
	}
	if *w.links >= w.opt.MaxLinks {
		w.r.truncated = true
		return
	}
	*w.links++
	reason, target := w.opt.phish(string(l.text), l.href)
	if reason == "" {
		return
	}
	w.find(KindPhishing, reason)
	w.r.phishing = true
	w.r.changed = true
	warn, ok := w.warnings[target]
	if !ok {
		warn = ` <span style="color:#c00000;font-weight:bold">[qscan warning: possible fraud: this link leads to ` +
			html.EscapeString(asciiOnly(target)) + `]</span>`
		if len(w.warnings) < maxCached {
			w.warnings[target] = warn
		}
	}
	w.out.WriteString(warn)
}

func isDataScript(t html.Token) bool {
	ty := strings.ToLower(strings.TrimSpace(attr(t, "type")))
	return ty == "application/ld+json" || ty == "application/json"
}

func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasAttr(t html.Token, keys ...string) bool {
	for _, a := range t.Attr {
		for _, k := range keys {
			if strings.EqualFold(a.Key, k) {
				return true
			}
		}
	}
	return false
}

// tagString is a tag for the log: its name and first attributes.
func tagString(t html.Token) string {
	var b strings.Builder
	b.WriteString("<" + t.Data)
	for i, a := range t.Attr {
		if i == 3 {
			b.WriteString(" ...")
			break
		}
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Val)
	}
	b.WriteString(">")
	return b.String()
}

// asciiOnly keeps a string for ASCII-only insertion in any charset.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// htmlASCII escapes text for HTML with every non-ASCII character as a
// numeric reference, so that it fits any charset.
func htmlASCII(s string) string {
	var b strings.Builder
	for _, r := range html.EscapeString(s) {
		if r > 0x7e || (r < 0x20 && r != '\n' && r != '\t') {
			fmt.Fprintf(&b, "&#%d;", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
