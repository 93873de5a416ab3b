package explode

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/message"
)

// duplicateChecked are top-level fields that must appear once (RFC 5322);
// a second copy is flagged, not blocked: MUAs show one, filters may read
// the other.
var duplicateChecked = []string{"From", "Sender", "To", "Subject", "Date", "MIME-Version", "Message-ID"}

// message explodes one RFC 822 message; prefix is the MIME path of the
// message/rfc822 part that holds it ("" at top level) and depth its MIME
// nesting.
func (x *exploder) message(raw []byte, prefix string, depth int) {
	hdr, body := splitHeader(raw)
	if int64(len(hdr)) > x.lim.MaxHeaderBytes {
		x.limit(TextHeaderSize, fmt.Sprintf("%d bytes, limit %d", len(hdr), x.lim.MaxHeaderBytes))
		return
	}
	fields, _ := parseFields(hdr)
	if prefix == "" {
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
	p := enmime.NewParser(
		enmime.RawContent(true), // we decode transfer encodings ourselves, without charset conversion
		enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.DisableCharacterDetection(true),
		enmime.DisableTextConversion(true),
		enmime.MaxStoredPartErrors(20),
	)
	root, err := p.ReadParts(bytes.NewReader(raw))
	if err != nil {
		x.report(message.KindError, -1, "unparsable", fmt.Sprintf("%s: %v", TextUnparsable, err), message.ActionQuarantine)
		return
	}
	x.walk(root, prefix, depth, mt0(fields))
}

// mt0 is the strictly parsed top-level Content-Type, for cross-checks.
func mt0(fields []field) mediaType { return contentType(fields) }

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

func (x *exploder) duplicates(fields []field) {
	for _, name := range duplicateChecked {
		if len(values(fields, name)) > 1 {
			x.report(message.KindContent, -1, "duplicate-header", TextDuplicate+": "+name, message.ActionNone)
		}
	}
}

// walkItem is a MIME node waiting to be visited, with its multipart level.
type walkItem struct {
	p     *enmime.Part
	level int
}

// walk visits the enmime tree iteratively (its depth was bounded by
// prescan, but a loop costs nothing) and handles every leaf.
func (x *exploder) walk(root *enmime.Part, prefix string, depth int, top mediaType) {
	if b := top.boundary(); b != "" && root.Boundary != "" && b != root.Boundary {
		x.ambiguous([]string{"parsers disagree on the boundary"})
	}
	stack := []walkItem{{root, 0}}
	var problems []*enmime.Error
	for len(stack) > 0 && !x.stopMIME {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		problems = append(problems, it.p.Errors...)
		if it.p.FirstChild != nil {
			var kids []walkItem
			for c := it.p.FirstChild; c != nil; c = c.NextSibling {
				kids = append(kids, walkItem{c, it.level + 1})
			}
			for i := len(kids) - 1; i >= 0; i-- {
				stack = append(stack, kids[i])
			}
			continue
		}
		if strings.HasPrefix(it.p.ContentType, "multipart/") && len(it.p.Content) == 0 {
			continue // empty multipart: nothing to scan
		}
		x.mimeLeaf(it.p, prefix, depth+it.level)
	}
	x.problems(problems)
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

// partPath turns an enmime PartID into our MIME path.
func partPath(prefix, id string) string {
	if id == "0" || id == "" {
		id = "1" // a single-part body is part 1, as in IMAP
	}
	if prefix == "" {
		return id
	}
	return prefix + "." + id
}

// mimeLeaf decodes one MIME leaf and adds it (or, for a message/rfc822,
// its own parts).
func (x *exploder) mimeLeaf(p *enmime.Part, prefix string, depth int) {
	path := partPath(prefix, p.PartID)
	ctype := strings.ToLower(p.ContentType)
	data := decodeCTE(p.Content, p.Header.Get("Content-Transfer-Encoding"))
	p.Content = nil // the encoded copy is not needed any more: let it go now
	x.res.Stats.MIMEParts++
	if x.res.Stats.MIMEParts > x.lim.MaxMIMEParts {
		x.limit(TextMIMEParts, fmt.Sprintf("more than %d", x.lim.MaxMIMEParts))
		return
	}
	if ctype == "message/rfc822" || ctype == "message/global" {
		if depth+1 > x.lim.MaxMIMEDepth {
			x.limit(TextMIMEDepth, fmt.Sprintf("more than %d levels", x.lim.MaxMIMEDepth))
			return
		}
		x.message(data, path, depth+1)
		return
	}
	idx := x.addPart(message.Part{
		Parent:       -1,
		Path:         path,
		MIMEPath:     path,
		Filename:     p.FileName,
		DeclaredType: ctype,
		DetectedType: detect(data),
		Size:         int64(len(data)),
		Data:         data,
	})
	x.inspect(idx)
}

// detect returns the MIME type sniffed from the content, without parameters.
func detect(data []byte) string {
	t := mimetype.Detect(data).String()
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}
