package content

import (
	"bytes"
	"errors"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlFinding is one kind of dangerous HTML found in a part.
type htmlFinding struct {
	Tag    string // option name: "iframe", "form", "script", "object-codebase"
	Sample string // the tag as written, for the log
}

// scanHTML tokenises data (never builds a DOM, so nesting depth costs
// nothing) and returns each dangerous tag kind once. It stops after
// maxTokens tokens; truncated says so.
func scanHTML(data []byte, maxTokens int) (found []htmlFinding, truncated bool) {
	z := html.NewTokenizer(bytes.NewReader(data))
	z.SetMaxBuf(1 << 20) // one token may not buffer more than 1 MiB
	seen := map[string]bool{}
	add := func(tag string) {
		if !seen[tag] {
			seen[tag] = true
			found = append(found, htmlFinding{Tag: tag, Sample: "<" + tagName(tag) + ">"})
		}
	}
	for n := 0; ; n++ {
		if n >= maxTokens {
			return found, true
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			// A token over the buffer limit hides the rest of the part.
			return found, errors.Is(z.Err(), html.ErrBufferExceeded)
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		switch atom.Lookup(name) {
		case atom.Iframe, atom.Frame:
			add("iframe")
		case atom.Form:
			add("form")
		case atom.Script:
			if !hasAttr || !attrIs(z, "type", "application/ld+json") {
				add("script")
			}
		case atom.Object, atom.Embed, atom.Applet:
			if hasAttr && hasAnyAttr(z, "codebase", "data", "src", "code") {
				add("object-codebase")
			}
		}
	}
}

func tagName(tag string) string {
	if tag == "object-codebase" {
		return "object codebase"
	}
	return tag
}

// attrIs reads the attributes of the current tag and reports whether key
// has value (case-insensitive).
func attrIs(z *html.Tokenizer, key, value string) bool {
	for {
		k, v, more := z.TagAttr()
		if string(k) == key && strings.EqualFold(strings.TrimSpace(string(v)), value) {
			return true
		}
		if !more {
			return false
		}
	}
}

func hasAnyAttr(z *html.Tokenizer, keys ...string) bool {
	for {
		k, _, more := z.TagAttr()
		for _, want := range keys {
			if string(k) == want {
				return true
			}
		}
		if !more {
			return false
		}
	}
}
