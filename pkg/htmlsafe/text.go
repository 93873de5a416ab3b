package htmlsafe

import (
	"bytes"
	"strings"
)

// rewriteText puts a warning beside the likely fraudulent links of a
// plain-text body (UTF-8): a bare URL to a bad or look-alike site or with
// a user@host trick, and "TEXT <URL>", "TEXT (URL)" or "[TEXT](URL)"
// where TEXT names another site.
func rewriteText(data []byte, path string, opt *Options, links *int) rewritten {
	r := rewritten{out: data, sigAt: len(data)}
	if !opt.Phishing {
		return r
	}
	var out bytes.Buffer
	pos := 0 // data[:pos] is written
	for i := 0; i < len(data); {
		j := nextURL(data, i)
		if j < 0 {
			break
		}
		end := urlEnd(data, j)
		if *links >= opt.MaxLinks {
			r.truncated = true
			break
		}
		*links++
		shown, closeAt := shownText(data, j, end)
		reason, target := opt.phish(shown, string(data[j:end]))
		after := end
		if closeAt > 0 {
			after = closeAt
		}
		if reason != "" {
			out.Write(data[pos:after])
			out.WriteString(" [qscan warning: possible fraud: this link leads to " + asciiOnly(target) + "]")
			pos = after
			r.add(Finding{Path: path, Kind: KindPhishing, Detail: reason})
			r.phishing, r.dangerous, r.changed = true, true, true
		}
		i = max(after, j+1)
	}
	if !r.changed {
		return r
	}
	out.Write(data[pos:])
	r.out = out.Bytes()
	r.sigAt = len(r.out)
	return r
}

// nextURL finds the next "http://", "https://" or "www." at or after i
// that starts a word.
func nextURL(data []byte, i int) int {
	for i < len(data) {
		k := indexFold(data[i:])
		if k < 0 {
			return -1
		}
		j := i + k
		if j == 0 || !isWordByte(data[j-1]) {
			return j
		}
		i = j + 1
	}
	return -1
}

func indexFold(b []byte) int {
	best := -1
	for _, p := range []string{"http://", "https://", "www."} {
		for off := 0; off < len(b); {
			k := bytes.IndexByte(b[off:], p[0])
			k2 := bytes.IndexByte(b[off:], p[0]-0x20)
			if k < 0 || (k2 >= 0 && k2 < k) {
				k = k2
			}
			if k < 0 || (best >= 0 && off+k >= best) {
				break
			}
			s := off + k
			if len(b)-s >= len(p) && strings.EqualFold(string(b[s:s+len(p)]), p) {
				best = s
				break
			}
			off = s + 1
		}
	}
	return best
}

func isWordByte(c byte) bool {
	return c == '.' || c == '/' || c == '@' || c == '-' || c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9')
}

// urlEnd is where a URL starting at j ends: at a blank, a quote, an
// angle bracket, or a closing bracket; trailing punctuation is left out.
func urlEnd(data []byte, j int) int {
	e := j
	for e < len(data) && e-j < 8192 {
		c := data[e]
		if c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x7f {
			break
		}
		e++
	}
	for e > j && strings.IndexByte(".,;:!?", data[e-1]) >= 0 {
		e--
	}
	return e
}

// shownText returns the text shown for a bracketed URL at data[j:end]:
// the word before "<URL>" or "(URL)", or TEXT of "[TEXT](URL)"; and the
// offset after the closing bracket (0 when the URL is bare).
func shownText(data []byte, j, end int) (string, int) {
	if j == 0 || end >= len(data) {
		return "", 0
	}
	open := data[j-1]
	var closer byte
	switch open {
	case '<':
		closer = '>'
	case '(':
		closer = ')'
	default:
		return "", 0
	}
	if data[end] != closer {
		return "", 0
	}
	before := data[:j-1]
	if open == '(' && len(before) > 0 && before[len(before)-1] == ']' {
		if k := bytes.LastIndexByte(before, '['); k >= 0 && len(before)-k < maxLinkText {
			return string(before[k+1 : len(before)-1]), end + 1
		}
	}
	before = bytes.TrimRight(before, " \t")
	k := bytes.LastIndexAny(before, " \t\r\n")
	word := before[k+1:]
	if len(word) > 512 {
		return "", 0
	}
	return string(word), end + 1
}
