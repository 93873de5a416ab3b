package explode

import (
	"io"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/qscan/qscan/pkg/mimetree"
)

// TextPartNames is the report text of a part with too many names.
const TextPartNames = "attachment with too many names"

// maxPartNames bounds the distinct names kept for one part; a part that
// gives more is reported (no client shows that many).
const maxPartNames = 32

// partNames returns every file name a part header gives, decoded as mail
// clients decode them: the filename and name parameters of every
// Content-Disposition and Content-Type field (a part may have two), each
// in its plain and RFC 2231 forms (charset-tagged, continued), RFC 2047
// words undone. Clients differ in the one they pick, so the checks need
// them all. more is set when names beyond maxPartNames were dropped.
func partNames(fields []mimetree.Field) (names []string, more bool) {
	seen := map[string]bool{}
	add := func(n string) {
		if n == "" || seen[n] {
			return
		}
		if len(names) == maxPartNames {
			more = true
			return
		}
		seen[n] = true
		names = append(names, n)
	}
	for _, f := range fields {
		if !strings.EqualFold(f.Name, "Content-Type") && !strings.EqualFold(f.Name, "Content-Disposition") {
			continue
		}
		mt := parseMediaType(f.Value)
		for _, key := range []string{"filename", "name"} {
			for _, n := range paramNames(mt.Params, key) {
				add(n)
			}
		}
	}
	return names, more
}

// paramNames decodes the values of parameter key: each plain key=value
// (RFC 2047 words decoded, as most clients do), each key*=charset”value,
// and the key*0, key*1 ... continuations joined in order.
func paramNames(params []param, key string) []string {
	var out []string
	type seg struct {
		n   int
		ext bool
		v   string
	}
	var segs []seg
	for _, p := range params {
		switch {
		case p.Name == key:
			out = append(out, decodeWords(p.Value))
		case p.Name == key+"*":
			out = append(out, decode2231(p.Value, true))
		case strings.HasPrefix(p.Name, key+"*"):
			num, ext := strings.CutSuffix(p.Name[len(key)+1:], "*")
			if n, err := strconv.Atoi(num); err == nil && n >= 0 && n < 1000 {
				segs = append(segs, seg{n, ext, p.Value})
			}
		}
	}
	if len(segs) > 0 {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		var b strings.Builder
		charset := ""
		for i, s := range segs {
			v := s.v
			if s.ext && i == 0 {
				charset, v = splitCharset(v)
			}
			if s.ext {
				v = unescape(v)
			}
			b.WriteString(v)
		}
		out = append(out, toUTF8(charset, b.String()))
	}
	return out
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

// decodeWords undoes RFC 2047 encoded words; on error the text stays.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// decode2231 decodes charset'language'percent-encoded text.
func decode2231(v string, tagged bool) string {
	charset := ""
	if tagged {
		charset, v = splitCharset(v)
	}
	return toUTF8(charset, unescape(v))
}

func splitCharset(v string) (charset, rest string) {
	parts := strings.SplitN(v, "'", 3)
	if len(parts) != 3 {
		return "", v
	}
	return parts[0], parts[2]
}

// unescape undoes %XX escapes; a malformed escape stays as written.
func unescape(v string) string {
	if s, err := url.PathUnescape(v); err == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			if n, err := strconv.ParseUint(v[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// toUTF8 converts s from charset; unknown charsets and invalid text are
// kept as the bytes were.
func toUTF8(charset, s string) string {
	c := strings.ToLower(strings.TrimSpace(charset))
	if c == "" || c == "utf-8" || c == "utf8" || c == "us-ascii" {
		return s
	}
	enc, err := htmlindex.Get(c)
	if err != nil {
		return s
	}
	d, err := enc.NewDecoder().String(s)
	if err != nil || !utf8.ValidString(d) {
		return s
	}
	return d
}

// altNames returns the names of a part header other than primary (the
// MIME library's choice), and whether some were dropped.
func altNames(hdr []byte, primary string) ([]string, bool) {
	fields := mimetree.Fields(hdr, 0, len(hdr))
	names, more := partNames(fields)
	out := names[:0]
	for _, n := range names {
		if n != primary {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, more
	}
	return out, more
}
