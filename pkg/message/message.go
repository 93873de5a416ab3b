// Package message holds the data that flows through qscan: one Message per
// queued mail, its exploded parts, and the reports that checks attach.
package message

import (
	"net/netip"
	"strings"
	"time"
)

// ReportKind classifies a report, with MailScanner's report-type letters in
// mind (v virus, f filename/filetype, c dangerous content, s size, e error,
// and spam).
type ReportKind string

const (
	KindVirus    ReportKind = "virus"
	KindFilename ReportKind = "filename"
	KindFiletype ReportKind = "filetype"
	KindSize     ReportKind = "size"
	KindContent  ReportKind = "content" // dangerous content: HTML, partial, encrypted, limits
	KindSpam     ReportKind = "spam"
	KindError    ReportKind = "error" // unparsable message, unreadable archive, engine trouble
	// KindPhishing: a link whose text names another site than the one it
	// leads to (pkg/htmlsafe); the link is marked, the part delivered.
	KindPhishing ReportKind = "phishing"
)

// Action is what a report asks to be done with the part (or message) it
// names. Zero value means "report only".
type Action string

const (
	ActionNone       Action = ""           // report, keep the part
	ActionDelete     Action = "delete"     // remove the part silently (no replacement text)
	ActionReplace    Action = "replace"    // replace the part with the replacement text, quarantine it
	ActionQuarantine Action = "quarantine" // quarantine the whole message
	// ActionDisarm delivers the part rewritten in place (dangerous HTML
	// disarmed, web bugs replaced, phishing links marked): logged and
	// reported, not clean, nothing quarantined.
	ActionDisarm Action = "disarm"
	// ActionRename delivers the part under the name in Report.Rename
	// (a "rename" filename rule): its headers' file names change, its
	// bytes do not.
	ActionRename Action = "rename"
)

// Report is one finding of one check.
type Report struct {
	Kind   ReportKind `json:"kind"`
	Part   int        `json:"part"`             // index into Message.Parts; -1 = the whole message
	Engine string     `json:"engine,omitempty"` // "clamd", "builtin", "filename-rules", ...
	Name   string     `json:"name,omitempty"`   // virus name or rule id
	Text   string     `json:"text"`             // for the log and the postmaster
	User   string     `json:"user,omitempty"`   // for the recipient/sender (replacement text)
	Action Action     `json:"action,omitempty"`
	Silent bool       `json:"silent,omitempty"` // no notices (e.g. silent viruses)
	// Redirect asks for the message to go to these addresses instead of
	// its recipients (a filename rule with an address list).
	Redirect []string `json:"redirect,omitempty"`
	// Rename is the name the part is delivered under (ActionRename).
	Rename string `json:"rename,omitempty"`
}

// Part is one leaf of the exploded message: a decoded MIME part, or a
// member of an archive found inside one.
type Part struct {
	Index    int    `json:"index"`
	Parent   int    `json:"parent"`    // index of the containing part (archive), -1 for MIME leaves
	Path     string `json:"path"`      // position in the tree, e.g. "1.2" or "1.2/a.zip/b.exe"
	MIMEPath string `json:"mime_path"` // MIME position of the top-level part it belongs to
	Filename string `json:"filename,omitempty"`
	// AltNames are the part's other names, as written: a Content-Type
	// name that differs from the Content-Disposition filename, a second
	// Content-Disposition, RFC 2231 and plain forms that disagree. Mail
	// clients differ in the one they use, so the rules check them all.
	AltNames     []string `json:"alt_names,omitempty"`
	DeclaredType string   `json:"declared_type,omitempty"`
	DetectedType string   `json:"detected_type,omitempty"`
	Size         int64    `json:"size"`
	Depth        int      `json:"depth"` // archive depth (0 for MIME parts)
	Archive      bool     `json:"archive,omitempty"`
	Encrypted    bool     `json:"encrypted,omitempty"`
	Data         []byte   `json:"-"` // decoded content, bounded by the explode limits
	// Verbatim says Data stands byte for byte in the message as delivered
	// to the checks (a MIME leaf without transfer encoding), so a scan of
	// the whole message reads these very bytes.
	Verbatim bool `json:"verbatim,omitempty"`
}

// Recipient is one envelope recipient.
type Recipient struct {
	Addr string
}

// Envelope is what the MTA knows about a message beyond its content.
type Envelope struct {
	Sender     string     // "" for the null sender <>
	Recipients []string   // addresses without angle brackets
	ClientIP   netip.Addr // invalid when unknown
	ClientHost string
	Helo       string
	Protocol   string
	Auth       bool // the client authenticated (SMTP AUTH)
}

// Message is one queued mail under scan.
type Message struct {
	ID       string
	Envelope Envelope
	Header   []byte // raw header block, CRLF or LF, ending before the blank line
	Body     []byte // raw body (everything after the header block)
	Size     int64
	Received time.Time
	Parts    []Part
	Reports  []Report
	Spam     *SpamResult // nil until the spam stage ran (or when it is off)
}

// SpamResult is the outcome of the spam checks of one message.
type SpamResult struct {
	Level       SpamLevel  `json:"level"`
	Score       float64    `json:"score"`
	Required    float64    `json:"required"`
	Rules       []SpamRule `json:"rules,omitempty"`
	Engines     []string   `json:"engines,omitempty"` // which engines gave the score, e.g. "SpamAssassin"
	Whitelisted bool       `json:"whitelisted,omitempty"`
	Blacklisted bool       `json:"blacklisted,omitempty"`
	Cached      bool       `json:"cached,omitempty"`
	// Unchecked is set when an engine failed and policy let the message
	// through without a verdict; it says why.
	Unchecked string `json:"unchecked,omitempty"`
}

// SpamLevel is the spam verdict on one message.
type SpamLevel string

// The spam levels, in increasing order.
const (
	SpamHam  SpamLevel = "ham"
	SpamSpam SpamLevel = "spam"
	SpamHigh SpamLevel = "high" // high-scoring spam
)

// Rank orders the levels: 0 ham (or unknown), 1 spam, 2 high.
func (l SpamLevel) Rank() int {
	switch l {
	case SpamSpam:
		return 1
	case SpamHigh:
		return 2
	}
	return 0
}

// IsSpam reports whether l is SpamSpam or SpamHigh.
func (l SpamLevel) IsSpam() bool { return l.Rank() > 0 }

// SpamRule is one rule (SpamAssassin test, rspamd symbol, block list) that
// contributed to the score.
type SpamRule struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// AddReport appends a report.
func (m *Message) AddReport(r Report) { m.Reports = append(m.Reports, r) }

// Has reports whether the message carries at least one report of kind k.
func (m *Message) Has(k ReportKind) bool {
	for _, r := range m.Reports {
		if r.Kind == k {
			return true
		}
	}
	return false
}

// Raw returns the whole message: the header block, the empty line and the
// body. When Body follows Header and its empty line in the same array (as
// the pipeline and `qscan scan` read them), no copy is made.
func (m *Message) Raw() []byte {
	h := len(m.Header)
	if len(m.Body) > 0 && cap(m.Header) > h && m.Header[:h+1][h] == '\n' &&
		cap(m.Header)-h-1 >= len(m.Body) && &m.Header[:h+2][h+1] == &m.Body[0] {
		return m.Header[:h+1+len(m.Body)]
	}
	raw := make([]byte, 0, h+1+len(m.Body))
	return append(append(append(raw, m.Header...), '\n'), m.Body...)
}

// PartPath names part i by the chain of file names that leads to it:
// "outer.zip/inner.zip/invoice.pdf.exe", or its MIME path when unnamed.
func (m *Message) PartPath(i int) string {
	var names []string
	for n := 0; i >= 0 && i < len(m.Parts) && n < 64; n++ {
		p := m.Parts[i]
		name := p.Filename
		if name == "" {
			name = "part " + p.MIMEPath
		}
		names = append([]string{name}, names...)
		i = p.Parent
	}
	return strings.Join(names, "/")
}
