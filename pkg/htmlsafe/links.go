package htmlsafe

import (
	"net"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// phish checks one link: the text the reader sees and where it leads. It
// returns why the link is a likely fraud ("" when it is not) and its
// target host.
func (o *Options) phish(text, href string) (reason, target string) {
	u := parseLink(href)
	if u == nil {
		return "", ""
	}
	target = o.cache.asciiHost(u.Hostname())
	if target == "" {
		return "", ""
	}
	if o.Sites.Bad(target) {
		return "link to a known bad site " + target, target
	}
	if o.Sites.Safe(target) {
		return "", target
	}
	if u.User != nil && strings.Contains(u.User.Username(), ".") {
		return "link hides its destination " + target + " behind " + asciiOnly(u.User.Username()) + "@", target
	}
	if uni, ok := lookalike(target); ok {
		return "link to the look-alike domain " + target + " (shown as " + asciiOnly(uni) + ")", target
	}
	shown := o.cache.hostIn(text)
	if shown == "" {
		return "", target
	}
	shownASCII := o.cache.asciiHost(shown)
	if shownASCII == target {
		return "", target
	}
	return o.cache.mismatch(shownASCII, target, o.Numeric), target
}

// mismatch tells a link whose text shows the host shown but which leads
// to target, another host: "" when both are in one registrable domain,
// or target is a numeric address and numeric is off.
func mismatch(shown, target string, numeric bool, reg func(string) string) string {
	if isIP(target) {
		if numeric {
			return "link text says " + shown + " but the link leads to the numeric address " + target
		}
		return ""
	}
	if reg(shown) != reg(target) {
		return "link text says " + shown + " but the link leads to " + target
	}
	return ""
}

func (c *hostCache) mismatch(shown, target string, numeric bool) string {
	if c == nil {
		return mismatch(shown, target, numeric, registrable)
	}
	k := [2]string{shown, target}
	if v, ok := c.pair[k]; ok {
		return v
	}
	v := mismatch(shown, target, numeric, c.registrable)
	if len(c.pair) < maxCached {
		c.pair[k] = v
	}
	return v
}

// parseLink reads an http(s) link, or one starting with "www."; others
// (mailto:, relative, cid:) are not checked.
func parseLink(href string) *url.URL {
	href = strings.TrimSpace(href)
	low := strings.ToLower(href)
	switch {
	case strings.HasPrefix(low, "http://"), strings.HasPrefix(low, "https://"):
	case strings.HasPrefix(low, "//"):
		href = "http:" + href
	case strings.HasPrefix(low, "www."):
		href = "http://" + href
	default:
		return nil
	}
	if len(href) > 8192 {
		href = href[:8192]
	}
	u, err := url.Parse(href)
	if err != nil {
		// A malformed link still leads somewhere: read its host by hand.
		rest := href[strings.Index(href, "//")+2:]
		if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
			rest = rest[:i]
		}
		u = &url.URL{Scheme: "http", Host: rest}
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			u.User, u.Host = url.User(rest[:i]), rest[i+1:]
		}
	}
	return u
}

// isIP is net.ParseIP(h) != nil without its cost on names: only digits
// and dots (IPv4) or a colon (IPv6) can parse.
func isIP(h string) bool {
	if h == "" {
		return false
	}
	if strings.IndexByte(h, ':') < 0 {
		for i := 0; i < len(h); i++ {
			if c := h[i]; c != '.' && (c < '0' || c > '9') {
				return false
			}
		}
	}
	return net.ParseIP(h) != nil
}

// hostCache remembers, for one Inspect call, what the host functions
// computed: a message's links mostly repeat a few hosts and texts, and
// IDNA and the public suffix list cost more than a map look-up. A nil
// cache computes every time.
type hostCache struct {
	ascii, reg, in map[string]string
	pair           map[[2]string]string // mismatch, per shown and target host
}

// maxCached bounds each map of a hostCache; maxCachedText the texts
// hostIn remembers.
const (
	maxCached     = 10000
	maxCachedText = 256
)

func newHostCache() *hostCache {
	return &hostCache{ascii: map[string]string{}, reg: map[string]string{}, in: map[string]string{},
		pair: map[[2]string]string{}}
}

func cached(m map[string]string, key string, f func(string) string) string {
	if v, ok := m[key]; ok {
		return v
	}
	v := f(key)
	if len(m) < maxCached {
		m[key] = v
	}
	return v
}

func (c *hostCache) asciiHost(h string) string {
	if c == nil {
		return asciiHost(h)
	}
	return cached(c.ascii, h, asciiHost)
}

func (c *hostCache) registrable(h string) string {
	if c == nil {
		return registrable(h)
	}
	return cached(c.reg, h, registrable)
}

func (c *hostCache) hostIn(text string) string {
	if c == nil || len(text) > maxCachedText {
		return hostIn(text)
	}
	return cached(c.in, text, hostIn)
}

// asciiHost is the lower-case ASCII (punycode) form of a host name.
func asciiHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	h = strings.Trim(h, "[]")
	if a, err := idna.Lookup.ToASCII(h); err == nil && a != "" {
		return a
	}
	if a, err := idna.Punycode.ToASCII(h); err == nil && a != "" {
		return a
	}
	return h
}

// registrable is a host's registrable domain ("paypal.com" for
// "www.paypal.com"); an IP address or a name without one is itself.
func registrable(h string) string {
	if isIP(h) {
		return h
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(h); err == nil {
		return d
	}
	return h
}

// hostIn finds the first host name or URL in a link's visible text.
func hostIn(text string) string {
	if len(text) > maxLinkText {
		text = text[:maxLinkText]
	}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`<>()[]{}"'|,;`, r)
	}) {
		if h := hostOf(w); h != "" {
			return h
		}
	}
	return ""
}

// hostOf reads a word as a URL or a host name: "https://x.example/a",
// "www.x.example", "x.example", "192.0.2.1".
func hostOf(w string) string {
	w = strings.TrimRight(w, ".:!?")
	low := strings.ToLower(w)
	explicit := false
	for _, p := range []string{"https://", "http://", "//"} {
		if strings.HasPrefix(low, p) {
			w, explicit = w[len(p):], true
			break
		}
	}
	if i := strings.IndexAny(w, "/?#\\"); i >= 0 {
		w = w[:i]
	}
	if i := strings.LastIndexByte(w, '@'); i >= 0 {
		if !explicit {
			return "" // an e-mail address
		}
		w = w[i+1:]
	}
	if i := strings.LastIndexByte(w, ':'); i >= 0 && !strings.Contains(w[:i], ":") {
		w = w[:i]
	}
	w = strings.ToLower(w)
	if isIP(w) && strings.Count(w, ".") == 3 {
		return w
	}
	if !strings.Contains(w, ".") || strings.HasPrefix(w, ".") || strings.Contains(w, "..") {
		return ""
	}
	for _, r := range w {
		if !(r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return ""
		}
	}
	a := asciiHost(w)
	suffix, icann := publicsuffix.PublicSuffix(a)
	if !icann || suffix == a {
		return ""
	}
	if !explicit && !strings.HasPrefix(a, "www.") && fileExt[suffix] {
		return "" // "report.zip", "readme.md": more likely a file than a site
	}
	return w
}

var fileExt = map[string]bool{"zip": true, "mov": true, "md": true, "sh": true, "py": true, "pl": true,
	"rs": true, "exe": true, "doc": true, "pdf": true, "txt": true, "js": true, "cc": true, "so": true,
	"ps": true, "ai": true, "io": false}

// lookalike tells a punycode host whose Unicode form imitates Latin
// letters: a label mixing Latin with Cyrillic or Greek, or one written
// entirely in look-alike letters.
func lookalike(host string) (string, bool) {
	if !strings.Contains(host, "xn--") {
		return "", false
	}
	uni, err := idna.Punycode.ToUnicode(host)
	if err != nil {
		return "", false
	}
	for _, label := range strings.Split(uni, ".") {
		latin, other, allConfusable := false, false, true
		for _, r := range label {
			switch {
			case r < 0x80:
				if unicode.IsLetter(r) {
					latin = true
				}
			case unicode.In(r, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee):
				other = true
				if _, ok := confusable[r]; !ok {
					allConfusable = false
				}
			default:
				allConfusable = false
			}
		}
		if other && (latin || allConfusable) {
			return uni, true
		}
	}
	return "", false
}

// confusable maps the Cyrillic and Greek letters that look like Latin
// ones (a subset of Unicode's confusables.txt).
var confusable = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ԁ': 'd', 'ӏ': 'l', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'к': 'k', 'м': 'm', 'т': 't', 'в': 'b', 'н': 'h',
	'ο': 'o', 'α': 'a', 'ν': 'v', 'ρ': 'p', 'ι': 'i', 'κ': 'k', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ε': 'e',
}
