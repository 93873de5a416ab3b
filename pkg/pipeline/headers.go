package pipeline

import (
	"strings"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
	"github.com/qscan/qscan/pkg/rebuild"
)

// headerEdits lists the header edits of a delivered message in the order
// they are made, after the cleaner's (the new body's Content-* fields):
//
//  0. the fields Headers.Remove names;
//  1. qscan's own fields: X-<Org>-QScan, -ID, -From, -To that came with the
//     message go (forgeries), ours are added;
//  2. the spam check's (X-Spam-*, X-<Org>-QScan-Spam*, its subject tag);
//  3. the fields of the spam actions' "header" action, but for a name the
//     edits before or the subject tag set;
//  4. the subject tag of what was taken out, on the subject as the spam
//     check left it.
func (c *Checker) headerEdits(m *message.Message, d *message.Decision, edits []message.HeaderEdit) []message.HeaderEdit {
	if c.headers.Remove != nil {
		for _, name := range c.headers.Remove(m) {
			edits = append(edits, message.HeaderEdit{Op: message.HeaderDelete, Name: name})
		}
	}
	for _, name := range c.ownHeaders() {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderDelete, Name: name})
	}
	for _, h := range c.addedHeaders(m, d.HeaderValue) {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderAdd, Name: h[0], Value: h[1]})
	}
	if c.spam != nil {
		spam, err := c.spam(m)
		if err != nil && c.log != nil {
			c.log.WithError(err).Warn("spam headers")
		}
		edits = append(edits, spam...)
	}
	tag, tagged := c.subjectTag(m, d, edits)
	if tagged {
		edits = append(edits, actionHeaders(d.Headers, append(edits, tag))...)
		return append(edits, tag)
	}
	return append(edits, actionHeaders(d.Headers, edits)...)
}

// subjectTag is the edit that tags the subject for what was taken out of
// the message (Headers.SubjectTags), on the subject as edits left it.
func (c *Checker) subjectTag(m *message.Message, d *message.Decision, edits []message.HeaderEdit) (message.HeaderEdit, bool) {
	tag := contentTag(c.headers.SubjectTags, d)
	if tag == "" {
		return message.HeaderEdit{}, false
	}
	subject := headerValue(m.Header, "Subject")
	for _, e := range edits {
		if e.Op == message.HeaderReplace && strings.EqualFold(e.Name, "Subject") {
			subject = e.Value
		}
	}
	return message.HeaderEdit{Op: message.HeaderReplace, Name: "Subject", Value: rebuild.TagSubject(subject, tag)}, true
}

// contentTag is the subject tag for what was taken out of a message (a
// virus's first), or else for phishing links marked in it (disarmed HTML
// alone tags nothing: the reader sees the markers).
func contentTag(tags map[message.ReportKind]string, d *message.Decision) string {
	best, phishing := "", ""
	for _, r := range d.Disarm {
		if r.Report.Kind == message.KindPhishing {
			phishing = tags[message.KindPhishing]
		}
	}
	for _, r := range d.Replace {
		t := tags[r.Report.Kind]
		if r.Report.Kind == message.KindVirus && t != "" {
			return t // a virus tag says the most
		}
		if best == "" {
			best = t
		}
	}
	if best == "" {
		best = phishing
	}
	return best
}

// actionHeaders returns the edits for the fields of the spam actions'
// "header" action, to come after edits. A field that edits set already
// is left out: the spam check's "X-Spam-Status: Yes, score=7.3 ..." says
// more than the shipped action's "X-Spam-Status: Yes", and two of them
// would contradict each other. The others replace the fields of the same
// name that came with the message, which a sender could have preset.
func actionHeaders(fields [][2]string, edits []message.HeaderEdit) []message.HeaderEdit {
	set := map[string]bool{}
	for _, e := range edits {
		if e.Op != message.HeaderDelete {
			set[strings.ToLower(e.Name)] = true
		}
	}
	var dels, adds []message.HeaderEdit
	deleted := map[string]bool{}
	for _, f := range fields {
		low := strings.ToLower(f[0])
		if set[low] {
			continue
		}
		if !deleted[low] {
			deleted[low] = true
			dels = append(dels, message.HeaderEdit{Op: message.HeaderDelete, Name: f[0]})
		}
		adds = append(adds, message.HeaderEdit{Op: message.HeaderAdd, Name: f[0], Value: f[1]})
	}
	return append(dels, adds...)
}

// ownHeaders are the names of every header qscan adds; copies that arrive
// with a message are removed as forgeries.
func (c *Checker) ownHeaders() []string {
	o := c.headers.OrgName
	return []string{message.QScanHeader(o, ""), message.QScanHeader(o, "-ID"), message.QScanHeader(o, "-From"), message.QScanHeader(o, "-To")}
}

// addedHeaders lists the headers to add to a message with the given value.
func (c *Checker) addedHeaders(m *message.Message, value string) [][2]string {
	o := c.headers.OrgName
	hs := [][2]string{{message.QScanHeader(o, ""), value}}
	if c.headers.AddID {
		hs = append(hs, [2]string{message.QScanHeader(o, "-ID"), m.ID})
	}
	if c.headers.AddFrom && m.Envelope.Sender != "" {
		hs = append(hs, [2]string{message.QScanHeader(o, "-From"), m.Envelope.Sender})
	}
	if c.headers.AddTo && len(m.Envelope.Recipients) > 0 {
		hs = append(hs, [2]string{message.QScanHeader(o, "-To"), strings.Join(m.Envelope.Recipients, ", ")})
	}
	return hs
}

// headerValue returns the first field name of a header block (LF or CRLF
// lines), its folded lines joined, or "".
func headerValue(block []byte, name string) string {
	return mimetree.Value(mimetree.Fields(block, 0, len(block)), name)
}
