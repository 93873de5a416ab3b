// Package htmlsafe disarms the text bodies of a message: dangerous HTML
// (forms, frames, scripts, object codebases, javascript: and data: links,
// meta refresh), web bugs, and links whose text names another site than
// the one they lead to (the phishing net); and it puts banners and
// signatures in. It reads the MIME structure with pkg/mimetree and returns
// byte-range edits of the parts it changed, each re-encoded in the part's
// own charset and transfer encoding: everything else stays as it was.
package htmlsafe

// Mode is what to do with one kind of dangerous HTML (MailScanner's
// "Allow ... Tags" values yes / no / disarm).
type Mode string

// The modes.
const (
	Allow  Mode = "allow"  // leave it (MailScanner "yes")
	Block  Mode = "block"  // the content check replaces the part (MailScanner "no")
	Disarm Mode = "disarm" // rewrite it so that it no longer works, and say so
)

// Kind names what a Finding is about.
type Kind string

// The kinds of findings. Dangerous kinds are all but KindWebBug.
const (
	KindForm        Kind = "form"
	KindIFrame      Kind = "iframe"
	KindScript      Kind = "script"          // <script> elements and on* event attributes
	KindObject      Kind = "object-codebase" // <object>/<embed>/<applet> loading code or data
	KindURL         Kind = "url"             // javascript:, vbscript: and data: links
	KindMetaRefresh Kind = "meta-refresh"
	KindWebBug      Kind = "webbug"
	KindPhishing    Kind = "phishing"
)

// Dangerous tells the kinds that justify modifying a DKIM-signed message.
func (k Kind) Dangerous() bool { return k != KindWebBug }

// Finding is one thing found (and, unless its mode is Allow or Block,
// rewritten) in a part.
type Finding struct {
	Path   string // MIME path of the part ("1", "2.1")
	Kind   Kind
	Detail string // for the log and the postmaster: the first tag or link
	Count  int    // how many of the kind the part holds (Inspect)
}

// Defaults of Options.
const (
	DefaultMaxTokens = 5000000  // HTML tokens per part: 10 MB of HTML at 2 bytes a token
	DefaultMaxLinks  = 100000   // links checked per message
	DefaultMaxBytes  = 10 << 20 // decoded bytes of one part rewritten
	// DefaultWebBugReplacement is MailScanner's: a transparent 1x1 GIF.
	DefaultWebBugReplacement = "data:image/gif;base64,R0lGODlhAQABAJEAAP///wAAAAAAAAAAACH5BAkAAAAALAAAAAABAAEAAAgEAAEEBAA7"
	// DefaultPhishingBanner is put once at the top of a message with a
	// phishing link.
	DefaultPhishingBanner = "Warning: qscan has detected a possible fraud attempt in this message. " +
		"Links marked below may not lead where they say."
	// SignatureMark is the HTML comment that opens qscan's HTML
	// signature: a body that holds it is not signed again.
	SignatureMark = "<!-- qscan signature -->"
)

// Options say what to look for and what to do. The zero value finds
// nothing and changes nothing.
type Options struct {
	// Per-kind modes; "" is Allow. Script also governs on* attributes,
	// javascript:/vbscript:/data: links and meta refresh.
	IFrame, Form, Script, ObjectCodebase Mode
	// ConvertDangerous asks for an HTML part whose dangerous tags are
	// allowed to be made plain text instead (MailScanner's "Convert
	// Dangerous HTML To Text"); Inspect reports such parts in
	// Plan.Convert.
	ConvertDangerous bool

	// WebBugs replaces remote images of at most 2x2 pixels, or from
	// WebBugServers, by WebBugReplacement (default the transparent GIF).
	WebBugs           bool
	WebBugReplacement string
	// WebBugServers are host names (or parts of) known to serve web bugs;
	// IgnoredWebBugFiles are parts of file names of harmless spacers.
	WebBugServers, IgnoredWebBugFiles []string

	// Phishing turns the phishing net on; Numeric also flags links to
	// numeric IP addresses under a text that shows a host.
	Phishing, Numeric bool
	Sites             *Sites // safe and bad sites; nil: none
	// PhishingBanner is put once at the top of the first text and HTML
	// bodies of a message with a phishing link; "": DefaultPhishingBanner.
	PhishingBanner string

	// Cosmetic changes, made only where Inspect's caller asks (clean
	// mail, not DKIM-signed in DKIM-friendly mode): the signature at the
	// end of the first text and HTML bodies, the banner at their top.
	SignText, SignHTML string // "" none
	BannerText         string // "" none (external-sender warning)
	// DKIMFriendly: a message with a DKIM-Signature field gets no cosmetic
	// change and no web bug replacement unless something dangerous is
	// rewritten anyway.
	DKIMFriendly bool

	MaxTokens, MaxLinks, MaxBytes int // 0: the defaults

	cache *hostCache // set by Inspect for its call
}

func (o Options) withDefaults() Options {
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.MaxLinks <= 0 {
		o.MaxLinks = DefaultMaxLinks
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.WebBugReplacement == "" {
		o.WebBugReplacement = DefaultWebBugReplacement
	}
	if o.PhishingBanner == "" {
		o.PhishingBanner = DefaultPhishingBanner
	}
	return o
}

// mode returns the mode of a kind.
func (o *Options) mode(k Kind) Mode {
	var m Mode
	switch k {
	case KindForm:
		m = o.Form
	case KindIFrame:
		m = o.IFrame
	case KindScript, KindURL, KindMetaRefresh:
		m = o.Script
	case KindObject:
		m = o.ObjectCodebase
	}
	if m == "" {
		return Allow
	}
	return m
}

// Active reports whether the options could change anything.
func (o *Options) Active() bool {
	for _, m := range []Mode{o.IFrame, o.Form, o.Script, o.ObjectCodebase} {
		if m != "" && m != Allow {
			return true
		}
	}
	return o.ConvertDangerous || o.WebBugs || o.Phishing || o.SignText != "" || o.SignHTML != "" || o.BannerText != ""
}

// room is the most a banner and a signature can add to an HTML body
// (every character a numeric reference at worst), so that insert puts
// them in place.
func (o *Options) room() int {
	return 10*(len(o.PhishingBanner)+len(o.BannerText)) + len(o.SignHTML) + len(o.SignText) + 512
}
