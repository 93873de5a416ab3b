// Package rebuild writes the cleaned copy of a message: it splices
// replacement text parts into the original body in place of removed parts
// and keeps every other byte as it was.
//
// The body is never re-encoded by a MIME library. Rebuild walks the MIME
// structure on the raw bytes with pkg/mimetree (boundaries, nested multiparts,
// message/rfc822), cuts out the byte range of each named part and puts a
// text/plain part in its place. The top-level header stays with the caller
// (sendmail keeps it in the qf file): when it must change, Result lists
// the header edits.
//
// The spam actions striphtml and attachment make their bodies here too
// (StripHTML, Attachment), and Cleaner puts the three together for the
// pipeline: the delivered copy of a message its decision changes.
package rebuild

import (
	"errors"
	"fmt"
	"sort"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

var (
	// ErrNoPart means a replacement names a MIME path the body does not
	// have; the caller must not deliver the message.
	ErrNoPart = errors.New("rebuild: no such part")
	// ErrTooComplex means the body exceeds Options.MaxDepth or MaxParts,
	// or its structure leaves no clean place for an edit.
	ErrTooComplex = mimetree.ErrTooComplex
	// ErrAmbiguous means an independent MIME library (enmime) reads a
	// part to be replaced differently (malformed MIME): quarantine the
	// message rather than guess.
	ErrAmbiguous = errors.New("rebuild: parsers disagree on the MIME structure")
	// ErrTooLarge means a replacement or warning text exceeds
	// Options.MaxTextBytes.
	ErrTooLarge = errors.New("rebuild: text too large")
)

// Defaults of Options.
const (
	DefaultMaxDepth        = mimetree.DefaultMaxDepth
	DefaultMaxParts        = mimetree.DefaultMaxParts
	DefaultMaxTextBytes    = 64 << 10
	DefaultWarningFilename = "VirusWarning.txt"
)

// Replacement names one part to take out of the message.
type Replacement struct {
	// MIMEPath is message.Part.MIMEPath: "1", "2.1" ... A path inside a
	// message/rfc822 part that has a transfer encoding, or the single body
	// of an attached message, replaces that whole message/rfc822 part.
	MIMEPath string
	// Text is the replacement text (UTF-8), put in a text/plain part.
	Text []byte
	// Filename is the replacement part's file name; "" means
	// Options.WarningFilename.
	Filename string
	// Delete removes the part with its delimiter and puts no text in its
	// place. A deletion that would leave a multipart empty, or that names
	// the whole body, becomes a replacement with Text.
	Delete bool
	// Rename, when set, keeps the part and delivers it under this file
	// name: only the name parameters of its Content-Type and
	// Content-Disposition change (a rename rule). A part that another
	// replacement takes out is not renamed.
	Rename string
	// Files, when set, delivers the part's files in its place (Keep:
	// beside it), each a base64 attachment (a TNEF winmail.dat's
	// attachments). A part that is replaced or renamed is not unpacked.
	Files []File
	Keep  bool
	// Convert says Text is the part's own content in another form (HTML
	// made plain text), not a warning: the new part is inline and has no
	// file name, and a multipart/alternative around it stays alternative
	// (it is still an alternative of its siblings). Several replacements
	// of one part convert only if all of them say so.
	Convert bool
}

// Options bound and shape a rebuild. The zero value uses the defaults.
type Options struct {
	MaxDepth     int // multipart and message/rfc822 nesting; default 50
	MaxParts     int // MIME parts walked; default 1000
	MaxTextBytes int // each replacement text and the inline warning; default 64 KiB
	// WarningFilename names replacement parts whose Replacement.Filename
	// is empty; default "VirusWarning.txt" (MailScanner's name).
	WarningFilename string
	// InlineParts makes replacement parts "Content-Disposition: inline"
	// instead of attachments (MailScanner's "Warning Is Attachment = no").
	InlineParts bool
	// InlineWarning, when not empty, is put first in the message as an
	// inline text/plain part: as a new first part of a top-level
	// multipart/mixed, otherwise by wrapping the whole body into a new
	// multipart/mixed (the original body kept as its second part).
	InlineWarning []byte
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	if o.MaxTextBytes <= 0 {
		o.MaxTextBytes = DefaultMaxTextBytes
	}
	if o.WarningFilename == "" {
		o.WarningFilename = DefaultWarningFilename
	}
	return o
}

// Field is one top-level header field to set: Value is unfolded, one line.
type Field struct {
	Name, Value string
}

// Result is a rebuilt message: the new body and the edits the caller
// makes on the top-level header (see Edits).
type Result struct {
	Body []byte
	// Set lists fields to replace, or to add when absent.
	Set []Field
	// Delete lists fields to remove (every occurrence).
	Delete []string
	// Changed is false when nothing was asked: Body is then the input.
	Changed bool
}

// Edits returns r's header edits: the deletions, then the replacements.
// sendmail.Qf.Edit makes them on the queue file, message.EditHeader on
// header text (what the outgoing header will be).
func (r Result) Edits() []message.HeaderEdit {
	var edits []message.HeaderEdit
	for _, name := range r.Delete {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderDelete, Name: name})
	}
	for _, f := range r.Set {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderReplace, Name: f.Name, Value: f.Value})
	}
	return edits
}

// Rebuild replaces the parts named by repl in the message whose header
// block is header and whose body is body (sendmail's qf headers and df).
// Bytes outside the replaced parts are kept; see Result for the header
// edits. Any part it cannot locate is an error: deliver nothing then.
func Rebuild(header, body []byte, repl []Replacement, opt Options) (Result, error) {
	opt = opt.withDefaults()
	if len(opt.InlineWarning) > opt.MaxTextBytes {
		return Result{}, fmt.Errorf("rebuild inline warning: %w: %d bytes", ErrTooLarge, len(opt.InlineWarning))
	}
	for _, r := range repl {
		if len(r.Text) > opt.MaxTextBytes {
			return Result{}, fmt.Errorf("rebuild %s: %w: %d bytes", r.MIMEPath, ErrTooLarge, len(r.Text))
		}
	}
	if len(repl) == 0 && len(opt.InlineWarning) == 0 {
		return Result{Body: body}, nil
	}
	t, err := walk(header, body, opt)
	if err != nil {
		return Result{}, err
	}
	tgs, err := targets(t, repl)
	if err != nil {
		return Result{}, err
	}
	renames, err := renameTargets(t, repl, tgs)
	if err != nil {
		return Result{}, err
	}
	unpacks, err := unpackTargets(t, repl, append(tgs[:len(tgs):len(tgs)], renames...))
	if err != nil {
		return Result{}, err
	}
	all := append(append(tgs[:len(tgs):len(tgs)], renames...), unpacks...)
	if err := verify(t, header, all, opt.MaxDepth); err != nil {
		return Result{}, err
	}
	e := &editor{t: t, opt: opt, nl: lineBreak(body)}
	for _, tg := range tgs {
		e.target(tg)
	}
	for _, tg := range renames {
		e.rename(tg)
	}
	for _, tg := range unpacks {
		e.unpack(tg)
	}
	if len(opt.InlineWarning) > 0 {
		e.warning()
	}
	out, err := splice(body, e.splices)
	if err != nil {
		return Result{}, err
	}
	res := Result{Body: out, Set: e.set, Delete: e.del, Changed: true}
	if e.wrap {
		res = e.wrapBody(header, res)
	}
	res.Delete = appendName(res.Delete, "Content-Length")
	return res, nil
}

// lineBreak returns the body's line break: CRLF when its first line ends
// so, otherwise LF (sendmail's df).
func lineBreak(body []byte) string {
	for i, c := range body {
		if c == '\n' {
			if i > 0 && body[i-1] == '\r' {
				return "\r\n"
			}
			return "\n"
		}
	}
	return "\n"
}

func appendName(names []string, name string) []string {
	for _, n := range names {
		if n == name {
			return names
		}
	}
	return append(names, name)
}

// edit is one splice of the body: b[start:end] becomes with.
type edit struct {
	start, end int
	with       []byte
}

// splice applies non-overlapping edits to b.
func splice(b []byte, edits []edit) ([]byte, error) {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].start != edits[j].start {
			return edits[i].start < edits[j].start
		}
		return edits[i].end < edits[j].end // an insertion before a cut at the same place
	})
	out := make([]byte, 0, len(b))
	pos := 0
	for _, e := range edits {
		if e.start < pos || e.end < e.start || e.end > len(b) {
			return nil, fmt.Errorf("rebuild splice at %d: %w: overlapping edits", e.start, ErrTooComplex)
		}
		out = append(out, b[pos:e.start]...)
		out = append(out, e.with...)
		pos = e.end
	}
	return append(out, b[pos:]...), nil
}
