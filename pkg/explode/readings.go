package explode

import (
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

// Every reading of an ambiguous structure is scanned (the union scan).
// An entity whose header parsers can read two ways (two Content-Type or
// Content-Transfer-Encoding fields, several boundary candidates, the MIME
// library and mimetree disagreeing on the boundary) is flagged and the
// message held whole, but a virus or a blocked name must be reported
// whichever reading hides it. Each other reading is written as a small
// message of its own (the entity's fields with one Content-Type and one
// Content-Transfer-Encoding, then the entity's body) and exploded under a
// part labelled "reading-N", so that every check sees what that reading
// delivers. Readings are capped per message (Limits.MaxMIMEReadings) and
// their bytes are drawn from the expansion budget.

// maxCandidates caps the boundary candidates taken from one Content-Type
// value, and maxBoundary the length of one.
const (
	maxCandidates = 16
	maxBoundary   = 200
)

// reading is one way to read an entity: its Content-Type value (for a
// multipart reading, the type alone), the boundary of a multipart reading
// ("" for a leaf) and the transfer encoding.
type reading struct {
	ctype, boundary, cte string
	multi                bool
}

func (r reading) same(o reading) bool {
	if r.multi != o.multi {
		return false
	}
	if r.multi {
		return strings.EqualFold(r.ctype, o.ctype) && r.boundary == o.boundary
	}
	return strings.EqualFold(strings.TrimSpace(r.ctype), strings.TrimSpace(o.ctype)) &&
		strings.EqualFold(strings.TrimSpace(r.cte), strings.TrimSpace(o.cte))
}

// readingsOf lists the readings of the entity whose header fields are
// fields other than primary (the one mimetree walked), at most max+1 of
// them (so the caller sees that there were more). top says the entity is
// the top level of a message, where only multipart/* types split;
// libBoundary is the boundary the MIME library read.
func readingsOf(fields []mimetree.Field, top bool, primary reading, libBoundary string, max int) []reading {
	cts := distinct(mimetree.Values(fields, "Content-Type"))
	if len(cts) == 0 {
		cts = []string{""}
	}
	ctes := distinct(mimetree.Values(fields, "Content-Transfer-Encoding"))
	if len(ctes) == 0 {
		ctes = []string{""}
	}
	var out []reading
	add := func(r reading) bool {
		if r.same(primary) {
			return true
		}
		for _, o := range out {
			if r.same(o) {
				return true
			}
		}
		out = append(out, r)
		return len(out) <= max
	}
	for _, v := range cts {
		mt := parseMediaType(v)
		var bs []string
		if splits(mt.Type, top) {
			bs = boundaryCandidates(v, mt)
			if libBoundary != "" && len(bs) < maxCandidates && okBoundary(libBoundary) {
				bs = distinct(append(bs, libBoundary))
			}
		}
		if len(bs) > 0 {
			for _, b := range bs {
				if !add(reading{ctype: mt.Type, boundary: b, multi: true}) {
					return out
				}
			}
			continue
		}
		for _, cte := range ctes {
			if !add(reading{ctype: v, cte: cte}) {
				return out
			}
		}
	}
	return out
}

// splits says whether an entity of type t with a boundary is walked as a
// multipart (mimetree.Node.IsMultipart, as the MIME library does).
func splits(t string, top bool) bool {
	if strings.HasPrefix(t, "multipart/") {
		return true
	}
	return !top && t != "" && t != "text/plain" && t != "text/html"
}

// naiveBoundary is how a lenient parser that keeps comments and names
// loosely finds a boundary.
var naiveBoundary = regexp.MustCompile(`(?i)boundary[^=;"]{0,40}=\s*("[^"]*"|[^;\s]*)`)

// boundaryCandidates lists every boundary some parser could read in the
// Content-Type value v (mt is its strict parse): each plain boundary
// parameter, with and without trailing blanks, RFC 2047 decoded, the RFC
// 2231 forms joined either way, mimetree's reading and a naive one that
// keeps comments.
func boundaryCandidates(v string, mt mediaType) []string {
	var bs []string
	var ext []param
	for _, p := range mt.Params {
		switch {
		case p.Name == "boundary":
			bs = append(bs, p.Value, strings.TrimRight(p.Value, " \t"))
			if strings.Contains(p.Value, "=?") {
				if d, err := new(mime.WordDecoder).DecodeHeader(p.Value); err == nil {
					bs = append(bs, d)
				}
			}
		case strings.HasPrefix(p.Name, "boundary*"):
			ext = append(ext, p)
		case strings.HasPrefix(p.Name, "boundary"):
			bs = append(bs, p.Value)
		}
	}
	bs = append(bs, rfc2231(ext, false), rfc2231(ext, true))
	bs = append(bs, mimetree.ParseMediaType(v).Params["boundary"])
	for _, m := range naiveBoundary.FindAllStringSubmatch(v, 8) {
		bs = append(bs, strings.Trim(m[1], `"`))
	}
	all := distinct(bs)
	out := all[:0]
	for _, b := range all {
		if okBoundary(b) && len(out) < maxCandidates {
			out = append(out, b)
		}
	}
	return out
}

// okBoundary rejects what no parser would take as a boundary: empty, too
// long, or with control characters.
func okBoundary(b string) bool {
	if b == "" || len(b) > maxBoundary {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] < ' ' && b[i] != '\t' || b[i] == 0x7f {
			return false
		}
	}
	return true
}

// rfc2231 joins the boundary*N segments (RFC 2231 continuations), taking
// the first or the last of repeated ones; a lone boundary* is the
// extended form. Percent-encoding of extended segments is undone.
func rfc2231(ext []param, last bool) string {
	segs := map[int]string{}
	for _, p := range ext {
		name := strings.TrimPrefix(p.Name, "boundary*")
		value := p.Value
		extended := strings.HasSuffix(name, "*") || name == ""
		name = strings.TrimSuffix(name, "*")
		if name == "" {
			name = "0"
		}
		n, err := strconv.Atoi(name)
		if err != nil || n < 0 || n >= maxCandidates {
			continue
		}
		if extended {
			if n == 0 {
				if i := strings.LastIndexByte(value, '\''); i >= 0 {
					value = value[i+1:]
				}
			}
			if d, err := url.PathUnescape(value); err == nil {
				value = d
			}
		}
		if _, seen := segs[n]; !seen || last {
			segs[n] = value
		}
	}
	var b strings.Builder
	for n := 0; ; n++ {
		s, ok := segs[n]
		if !ok {
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

// distinct drops repeated strings, keeping the first of each.
func distinct(vs []string) []string {
	var out []string
	for _, v := range vs {
		dup := false
		for _, o := range out {
			dup = dup || o == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// rewrite writes the message of one reading: the entity's header fields
// but its Content-Type and Content-Transfer-Encoding, the reading's, a
// blank line and the entity's body.
func rewrite(hdr []byte, r reading, body []byte) []byte {
	hdrEnd, _ := mimetree.SplitHeader(hdr, 0, len(hdr))
	var b []byte
	for _, f := range mimetree.Block(hdr, 0, hdrEnd) {
		if strings.EqualFold(f.Name, "Content-Type") || strings.EqualFold(f.Name, "Content-Transfer-Encoding") {
			continue
		}
		b = append(b, hdr[f.Start:f.End]...)
		if b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
	}
	ct := r.ctype
	if r.multi {
		t := r.ctype
		if !strings.HasPrefix(t, "multipart/") {
			t = "multipart/mixed" // a boundary below the top splits any type
		}
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(r.boundary)
		ct = t + `; boundary="` + q + `"`
	}
	if ct != "" {
		b = append(b, "Content-Type: "+ct+"\n"...)
	}
	if r.cte != "" {
		b = append(b, "Content-Transfer-Encoding: "+r.cte+"\n"...)
	}
	b = append(b, '\n')
	return append(b, body...)
}

// readings explodes the other readings of entity e (header h as the MIME
// library read it) when its header is ambiguous or the parsers disagree.
func (x *exploder) readings(e mimetree.Entity, h partHeader, prefix string, depth int, top, disagree bool) {
	if x.stopMIME || x.done() {
		return
	}
	hdrEnd, _ := mimetree.SplitHeader(e.Header, 0, len(e.Header))
	fields := mimetree.Fields(e.Header, 0, hdrEnd)
	if !disagree && len(blockAmbiguity(fields)) == 0 {
		return
	}
	primary := reading{ctype: mimetree.Value(fields, "Content-Type"), cte: mimetree.Value(fields, "Content-Transfer-Encoding")}
	if e.Multipart {
		primary = reading{ctype: strings.ToLower(mimetree.ParseMediaType(primary.ctype).Type), boundary: e.Boundary, multi: true}
	}
	left := x.lim.MaxMIMEReadings - x.readingsUsed
	for _, r := range readingsOf(fields, top, primary, h.boundary, max(left, 0)) {
		if x.stopMIME || x.done() {
			return
		}
		if x.readingsUsed >= x.lim.MaxMIMEReadings {
			x.report(message.KindContent, -1, "mime-readings",
				fmt.Sprintf("%s: more than %d, the others not scanned", TextReadings, x.lim.MaxMIMEReadings), message.ActionQuarantine)
			return
		}
		alt := rewrite(e.Header, r, e.Body)
		if room, limit := x.room(); int64(len(alt)) > room {
			x.overLimit(-1, "reading the MIME structure another way", room, limit)
			return
		}
		x.spend(len(alt))
		x.readingsUsed++
		path := join(prefix, e.Path)
		label := fmt.Sprintf("reading-%d", x.readingsUsed)
		p := message.Part{Parent: -1, Path: label, MIMEPath: path, DeclaredType: "message/rfc822",
			DetectedType: "message/rfc822", Size: int64(len(alt)), Data: alt}
		if path != "" {
			p.Path = path + "/" + label
		}
		if s := x.scope; s.parent >= 0 {
			p.Parent, p.Path, p.MIMEPath, p.Depth = s.parent, s.path+"/"+p.Path, s.mimePath, s.depth
		}
		idx := x.addPart(p)
		x.mimeDepth = depth + e.Level
		x.readingTop = true
		x.embeddedMessage(idx)
		x.readingTop = false
	}
}
