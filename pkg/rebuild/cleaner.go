package rebuild

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
)

// Cleaner makes the delivered copy of a message a decision changes: the
// reported parts replaced by their texts (Rebuild), then the spam actions
// striphtml (StripHTML) and attachment (Attachment).
type Cleaner struct {
	// Log gets the spam transformations that were skipped; nil: none.
	Log logrus.FieldLogger
	// Text renders the text put in place of a part removed for report r
	// (pkg/notify's report templates).
	Text func(m *message.Message, r message.Report) ([]byte, error)
	// Inline renders the warning put at the top of a cleaned message; nil:
	// none ([notify] inline_warning).
	Inline func(removed []string, warningName string) ([]byte, error)
	// Options shape the rebuilt body.
	Options Options
	// Safe returns the dangerous-content options of a message
	// (pkg/htmlsafe): what Disarm rewrites; nil: nothing.
	Safe func(m *message.Message) htmlsafe.Options
	// PhishingHeader names the field that says a message had phishing
	// links marked (X-<Org>-QScan-Phishing); "": none.
	PhishingHeader string
}

// Clean makes the delivered copy: the reported parts replaced, then the
// spam actions striphtml and attachment. A part that cannot be replaced
// is an error (the message is then kept back); a spam transformation that
// fails is skipped: the message goes out as spam all the same.
//
// A body nothing changed comes back nil (the pipeline links the df).
func (c *Cleaner) Clean(m *message.Message, d *message.Decision) ([]byte, []message.HeaderEdit, error) {
	header, body := m.Header, m.Body
	var edits []message.HeaderEdit
	changed := false
	if len(d.Replace) > 0 || len(d.Rename) > 0 || len(d.Unpack) > 0 {
		b, e, err := c.replace(m, d.Replace, d.Rename, d.Unpack)
		if err != nil {
			return nil, nil, err
		}
		body, edits, changed = b, e, true
		header = message.EditHeader(header, e)
	}
	if c.Safe != nil {
		b, e, ch, err := c.disarm(m, d, header, body)
		if err != nil {
			return nil, nil, err
		}
		if ch {
			body, changed = b, true
		}
		edits = append(edits, e...)
		header = message.EditHeader(header, e)
	}
	if d.StripHTML {
		res, err := StripHTML(header, body, HTMLLimits{})
		if err == nil && res.Changed {
			body, header, changed = res.Body, message.EditHeader(header, res.Edits()), true
			edits = append(edits, res.Edits()...)
		} else if err != nil && c.Log != nil {
			c.Log.WithError(err).WithField("id", m.ID).Warn("striphtml skipped")
		}
	}
	if d.SpamAttachment && m.Spam != nil {
		text := fmt.Sprintf("This message was classified as spam (score %.1f, required %.1f).\n"+
			"The original message is attached unchanged.\n", m.Spam.Score, m.Spam.Required)
		res := Attachment(header, body, []byte(text), []byte(m.ID))
		body, changed = res.Body, true
		edits = append(edits, res.Edits()...)
	}
	if !changed {
		return nil, edits, nil
	}
	return body, edits, nil
}

// replace replaces each reported MIME part once: several reports about
// the same attachment (two members of one zip) share one replacement text.
// Renamed parts keep their bytes under a new name.
func (c *Cleaner) replace(m *message.Message, repl, renames []message.Replacement, unpacks []message.Unpacking) ([]byte, []message.HeaderEdit, error) {
	for _, r := range repl {
		if r.Part < 0 {
			return c.replaceWhole(m, r)
		}
	}
	byPath := map[string]*Replacement{}
	var paths []string
	// One text per attachment: a virus report speaks for it first.
	repl = append([]message.Replacement(nil), repl...)
	sort.SliceStable(repl, func(i, j int) bool {
		return repl[i].Report.Kind == message.KindVirus && repl[j].Report.Kind != message.KindVirus
	})
	for _, r := range repl {
		if x, ok := byPath[r.MIMEPath]; ok {
			x.Delete = x.Delete && r.Delete
			continue
		}
		text, err := c.Text(m, r.Report)
		if err != nil {
			return nil, nil, err
		}
		top := partFilename(m, topPart(m, r.Part))
		byPath[r.MIMEPath] = &Replacement{MIMEPath: r.MIMEPath, Text: text, Delete: r.Delete, Filename: warningName(top)}
		paths = append(paths, r.MIMEPath)
	}
	sort.Strings(paths)
	var rs []Replacement
	for _, p := range paths {
		rs = append(rs, *byPath[p])
	}
	opt := c.Options
	if c.Inline != nil && len(rs) > 0 {
		var names []string
		for _, r := range rs {
			if r.Filename != "" {
				names = append(names, strings.TrimSuffix(r.Filename, ".txt"))
			}
		}
		warning := DefaultWarningFilename
		if len(rs) > 0 && rs[0].Filename != "" {
			warning = rs[0].Filename
		}
		w, err := c.Inline(names, warning)
		if err != nil {
			return nil, nil, err
		}
		opt.InlineWarning = w
	}
	for _, r := range renames {
		rs = append(rs, Replacement{MIMEPath: r.MIMEPath, Rename: r.Rename})
	}
	for _, u := range unpacks {
		r := Replacement{MIMEPath: u.MIMEPath, Keep: u.Keep}
		for _, i := range u.Files {
			if i >= 0 && i < len(m.Parts) {
				r.Files = append(r.Files, File{Name: m.Parts[i].Filename, Data: m.Parts[i].Data})
			}
		}
		rs = append(rs, r)
	}
	res, err := Rebuild(m.Header, m.Body, rs, opt)
	if err != nil {
		return nil, nil, err
	}
	return res.Body, res.Edits(), nil
}

// topPart walks from an archive member up to the MIME part carrying it.
func topPart(m *message.Message, i int) int {
	for n := 0; i >= 0 && i < len(m.Parts) && m.Parts[i].Parent >= 0 && n < 64; n++ {
		i = m.Parts[i].Parent
	}
	return i
}

func partFilename(m *message.Message, i int) string {
	if i < 0 || i >= len(m.Parts) {
		return ""
	}
	return m.Parts[i].Filename
}

// warningName names the replacement part after the removed attachment,
// as "<name>.txt", keeping it short and free of path characters.
func warningName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '/' || r == '\\' || r == '"' || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		return ""
	}
	if len(name) > 100 {
		name = name[:100]
	}
	return name + ".txt"
}

// replaceWhole delivers the warning text in place of the whole body (the
// message itself was the problem: too large, unparsable).
func (c *Cleaner) replaceWhole(m *message.Message, r message.Replacement) ([]byte, []message.HeaderEdit, error) {
	text, err := c.Text(m, r.Report)
	if err != nil {
		return nil, nil, err
	}
	edits := []message.HeaderEdit{
		{Op: message.HeaderDelete, Name: "Content-Length"},
		{Op: message.HeaderDelete, Name: "Content-Disposition"},
		{Op: message.HeaderReplace, Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Op: message.HeaderReplace, Name: "Content-Transfer-Encoding", Value: "8bit"},
		{Op: message.HeaderReplace, Name: "MIME-Version", Value: "1.0"},
	}
	return text, edits, nil
}
