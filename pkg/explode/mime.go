package explode

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

// duplicateChecked are top-level fields that must appear once (RFC 5322);
// a second copy is flagged, not blocked: MUAs show one, filters may read
// the other.
var duplicateChecked = []string{"From", "Sender", "To", "Subject", "Date", "MIME-Version", "Message-ID"}

// message explodes one RFC 822 message; prefix is the MIME path of the
// message/rfc822 part that holds it ("" at top level) and depth its MIME
// nesting. verbatim says raw stands as it is in the top-level message (no
// transfer encoding was undone to get it).
func (x *exploder) message(raw []byte, prefix string, depth int, verbatim bool) {
	if x.done() {
		return
	}
	hdrEnd, body := mimetree.SplitHeader(raw, 0, len(raw))
	hdr := raw[:hdrEnd]
	if int64(len(hdr)) > x.lim.MaxHeaderBytes {
		x.limit(TextHeaderSize, fmt.Sprintf("%d bytes, limit %d", len(hdr), x.lim.MaxHeaderBytes))
		return
	}
	fields := mimetree.Fields(hdr, 0, len(hdr))
	if prefix == "" && x.scope.parent < 0 {
		x.duplicates(fields)
	}
	sc := prescan(fields, raw[body:], x.lim, depth)
	x.res.Stats.MIMEDepth = max(x.res.Stats.MIMEDepth, depth+sc.Depth)
	if len(sc.Ambiguous) > 0 {
		x.ambiguous(sc.Ambiguous)
	}
	if sc.Verdict != "" {
		x.stopMIME = true
		x.report(message.KindContent, -1, "mime-limit", sc.Verdict, message.ActionQuarantine)
		return
	}
	if x.res.Stats.MIMEParts+sc.Parts > x.lim.MaxMIMEParts {
		x.limit(TextMIMEParts, fmt.Sprintf("more than %d", x.lim.MaxMIMEParts))
		return
	}
	ents, err := mimetree.Parts(raw, x.lim.MaxMIMEParts, x.lim.MaxMIMEDepth)
	if err != nil {
		x.report(message.KindError, -1, "unparsable", fmt.Sprintf("%s: %v", TextUnparsable, err), message.ActionQuarantine)
		return
	}
	x.walk(ents, prefix, depth, verbatim, len(sc.Ambiguous) > 0)
}

// limit reports a message-level limit and stops adding MIME parts.
func (x *exploder) limit(text, detail string) {
	x.stopMIME = true
	x.report(message.KindContent, -1, "mime-limit", text+": "+detail, message.ActionQuarantine)
}

func (x *exploder) ambiguous(why []string) {
	sort.Strings(why)
	why = compact(why)
	x.report(message.KindContent, -1, "mime-ambiguous",
		TextAmbiguous+": "+strings.Join(why, ", "), message.ActionQuarantine)
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (x *exploder) duplicates(fields []mimetree.Field) {
	for _, name := range duplicateChecked {
		if len(mimetree.Values(fields, name)) > 1 {
			x.report(message.KindContent, -1, "duplicate-header", TextDuplicate+": "+name, message.ActionNone)
		}
	}
}

// headerParser reads part headers. The MIME library decodes what mail
// clients decode (RFC 2047 words, RFC 2231 parameters, lenient media
// types); it gets each header block alone, so that it never holds a copy
// of a part's body.
var headerParser = enmime.NewParser(
	enmime.SkipMalformedParts(true),
	enmime.MultipartWOBoundaryAsSinglePart(true),
	enmime.DisableCharacterDetection(true),
	enmime.DisableTextConversion(true),
	enmime.MaxStoredPartErrors(20),
)

// partHeader is what the MIME library reads in a part header.
type partHeader struct {
	ctype    string // lower case, without parameters; "" when missing below the top
	filename string
	cte      string
	boundary string
}

// readHeader parses one header block with the MIME library; top says it is
// a message header (missing Content-Type means text/plain there).
func readHeader(hdr []byte, top bool, problems *[]*enmime.Error) (partHeader, error) {
	b := make([]byte, 0, len(hdr)+2)
	b = append(append(b, hdr...), "\n\n"...)
	p, err := headerParser.ReadParts(bytes.NewReader(b))
	if err != nil {
		return partHeader{}, err
	}
	*problems = append(*problems, p.Errors...)
	h := partHeader{
		ctype:    strings.ToLower(p.ContentType),
		filename: p.FileName,
		cte:      p.Header.Get("Content-Transfer-Encoding"),
		boundary: p.Boundary,
	}
	if !top && p.Header.Get("Content-Type") == "" {
		h.ctype = ""
	}
	return h, nil
}

// walk handles the entities of one message level, in document order: it
// cross-checks each multipart's boundary and explodes each leaf, and the
// other readings of entities that can be read two ways (ambiguous says a
// header block of the level is ambiguous).
func (x *exploder) walk(ents []mimetree.Entity, prefix string, depth int, verbatim, ambiguous bool) {
	var problems []*enmime.Error
	defer func() { x.problems(problems) }()
	// The top entity of a reading is that reading: its other readings
	// are the ones of the entity it came from.
	reading := x.readingTop
	x.readingTop = false
	for i, e := range ents {
		if x.stopMIME || x.done() {
			return
		}
		h, err := readHeader(e.Header, i == 0, &problems)
		if err != nil {
			if i == 0 {
				x.report(message.KindError, -1, "unparsable", fmt.Sprintf("%s: %v", TextUnparsable, err), message.ActionQuarantine)
				return
			}
			problems = append(problems, &enmime.Error{Name: "Malformed MIME header", Detail: err.Error(), Severe: true})
		}
		disagree := e.Multipart && h.boundary != e.Boundary ||
			!e.Multipart && h.boundary != "" && strings.HasPrefix(h.ctype, "multipart/")
		if disagree {
			x.ambiguous([]string{"parsers disagree on the boundary"})
		}
		if !e.Multipart {
			x.mimeLeaf(e, h, prefix, depth+e.Level, verbatim)
		}
		if (ambiguous || disagree) && (i > 0 || !reading) {
			x.readings(e, h, prefix, depth, i == 0, disagree)
		}
	}
}

// mimeLeaf decodes one MIME leaf and adds it (or, for a message/rfc822,
// its own parts).
func (x *exploder) mimeLeaf(e mimetree.Entity, h partHeader, prefix string, depth int, verbatim bool) {
	path := join(prefix, e.Path)
	ctype := h.ctype
	x.res.Stats.MIMEParts++
	if x.res.Stats.MIMEParts > x.lim.MaxMIMEParts {
		x.limit(TextMIMEParts, fmt.Sprintf("more than %d", x.lim.MaxMIMEParts))
		return
	}
	room, limit := x.room()
	d := decodeCTE(e.Body, h.cte, room)
	data := d.Data
	verbatim = verbatim && sameBytes(data, e.Body)
	if !sameBytes(data, e.Body) {
		x.spend(len(data))
	}
	if ctype == "message/rfc822" || ctype == "message/global" {
		if d.Cut {
			x.overLimit(-1, "decoding the message/rfc822 part "+path, room, limit)
			return
		}
		if depth+1 > x.lim.MaxMIMEDepth {
			x.limit(TextMIMEDepth, fmt.Sprintf("more than %d levels", x.lim.MaxMIMEDepth))
			return
		}
		x.message(data, path, depth+1, verbatim)
		return
	}
	alt, more := altNames(e.Header, h.filename)
	size := int64(len(data))
	if d.Cut {
		data, size = nil, int64(len(e.Body))
	}
	p := message.Part{
		Parent:       -1,
		Path:         path,
		MIMEPath:     path,
		Filename:     h.filename,
		AltNames:     alt,
		DeclaredType: ctype,
		DetectedType: detectIf(data),
		Size:         size,
		Data:         data,
		Verbatim:     verbatim,
	}
	if s := x.scope; s.parent >= 0 {
		p.Parent, p.Path, p.MIMEPath, p.Depth, p.Verbatim = s.parent, s.path+"/"+path, s.mimePath, s.depth, false
	}
	idx := x.addPart(p)
	if more {
		x.report(message.KindContent, idx, "part-names", fmt.Sprintf("%s: more than %d", TextPartNames, maxPartNames), message.ActionReplace)
	}
	if d.Cut {
		x.overLimit(idx, "decoding "+h.cte, room, limit)
		return
	}
	x.mimeDepth = depth
	x.inspect(idx)
	if d.Alt != nil {
		x.alternative(idx, d.Alt)
	}
}

// alternative adds the second reading of a part's transfer encoding under
// it, so that what every decoder delivers gets scanned.
func (x *exploder) alternative(idx int, alt []byte) {
	x.spend(len(alt))
	x.report(message.KindContent, idx, "cte-ambiguous",
		TextAmbiguousCTE+": base64 data after a padding, read two ways", message.ActionNone)
	x.children(idx, []embedded{{Label: "other-decoding", Data: alt}})
}

// detect returns the MIME type sniffed from the content, without parameters.
func detect(data []byte) string {
	t := mimetype.Detect(data).String()
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

// join puts a path below prefix, the path of the message/rfc822 part that
// holds the level.
func join(prefix, path string) string {
	if prefix == "" {
		return path
	}
	return prefix + "." + path
}

// problems turns the library's severe errors into (deduplicated) reports.
func (x *exploder) problems(errs []*enmime.Error) {
	seen := map[string]bool{}
	for _, e := range errs {
		if !e.Severe || seen[e.Name] || len(seen) >= 5 {
			continue
		}
		seen[e.Name] = true
		x.report(message.KindContent, -1, "mime-malformed",
			fmt.Sprintf("%s: %s: %s", TextMalformed, e.Name, e.Detail), message.ActionNone)
	}
}

// sameBytes tells whether a and b are the same bytes of the same array.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
