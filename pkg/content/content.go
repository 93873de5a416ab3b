// Package content applies the filename, filetype, size and dangerous
// content checks to the exploded parts of a message, with rules in
// MailScanner's rule-file syntax.
package content

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
)

// HTML option values.
const (
	HTMLAllow  = "allow"
	HTMLBlock  = "block"
	HTMLDisarm = "disarm" // delivered rewritten by pkg/htmlsafe, reported
)

// HTMLOptions says what to do with each kind of dangerous HTML.
type HTMLOptions struct {
	IFrame         string // default "disarm" (MailScanner's shipped default)
	Form           string // default "disarm"
	Script         string // default "disarm"
	ObjectCodebase string // default "disarm"
	MaxTokens      int    // tokens looked at per HTML part (default 200000)
	// For returns the options of a message (rulesets; phishing, web
	// bugs); nil: the modes above for every message. Its modes are used
	// for "block" too.
	For func(m *message.Message) htmlsafe.Options
}

// Options configure a Checker. Start from DefaultOptions.
type Options struct {
	FilenameRules        []string // rule files for MIME parts (default etc/rules/filename.rules.conf)
	FiletypeRules        []string // default etc/rules/filetype.rules.conf
	ArchiveFilenameRules []string // rule files for archive members (default etc/rules/archives.filename.rules.conf)
	ArchiveFiletypeRules []string // default etc/rules/archives.filetype.rules.conf

	// RenamePattern is the name "rename" rules give a file, __FILENAME__
	// standing for its name (MailScanner's Default Rename Pattern;
	// default "__FILENAME__.disarmed").
	RenamePattern string

	MaxMessageSize    int64 // bytes; 0 = unlimited (default 0)
	MaxAttachmentSize int64 // bytes per top-level attachment; -1 = off (default -1)
	MinAttachmentSize int64 // bytes per top-level attachment; -1 = off (default -1)

	BlockPartial      bool // message/partial (default true)
	BlockExternalBody bool // message/external-body (default true)
	BlockEncrypted    bool // PGP/MIME and S/MIME encrypted messages (default false)

	// QPMaxBlankLine is the longest whitespace-only line allowed in a
	// text part (MailScanner's QP denial-of-service check); -1 = off
	// (default 100000).
	QPMaxBlankLine int

	HTML HTMLOptions
}

// DefaultOptions returns the documented defaults, with rule files under
// etcDir (e.g. "/etc/qscan" or "etc").
func DefaultOptions(etcDir string) Options {
	r := func(n string) []string { return []string{path.Join(etcDir, "rules", n)} }
	return Options{
		FilenameRules:        r("filename.rules.conf"),
		FiletypeRules:        r("filetype.rules.conf"),
		ArchiveFilenameRules: r("archives.filename.rules.conf"),
		ArchiveFiletypeRules: r("archives.filetype.rules.conf"),
		RenamePattern:        DefaultRenamePattern,
		MaxAttachmentSize:    -1,
		MinAttachmentSize:    -1,
		BlockPartial:         true,
		BlockExternalBody:    true,
		QPMaxBlankLine:       100000,
		HTML: HTMLOptions{IFrame: HTMLDisarm, Form: HTMLDisarm, Script: HTMLDisarm,
			ObjectCodebase: HTMLDisarm, MaxTokens: 200000},
	}
}

// RuleSets are the four parsed rule lists of a Checker.
type RuleSets struct {
	Filename, Filetype, ArchiveFilename, ArchiveFiletype *Rules
}

// Checker runs the content checks. It is safe for concurrent use.
type Checker struct {
	opts  Options
	rules RuleSets
}

// New loads the rule files named in opts. All errors (rule files and
// options) are returned at once; the error lists "FILE:LINE: text".
func New(opts Options) (*Checker, error) {
	var errs []error
	load := func(paths []string) *Rules {
		rs, err := LoadRules(paths...)
		if err != nil {
			errs = append(errs, err)
		}
		return rs
	}
	sets := RuleSets{
		Filename:        load(opts.FilenameRules),
		Filetype:        load(opts.FiletypeRules),
		ArchiveFilename: load(opts.ArchiveFilenameRules),
		ArchiveFiletype: load(opts.ArchiveFiletypeRules),
	}
	c, err := NewWithRules(opts, sets)
	return c, errors.Join(append(errs, err)...)
}

// NewWithRules builds a Checker from rules already parsed.
func NewWithRules(opts Options, sets RuleSets) (*Checker, error) {
	var errs []error
	for name, v := range map[string]*string{"iframe": &opts.HTML.IFrame, "form": &opts.HTML.Form,
		"script": &opts.HTML.Script, "object-codebase": &opts.HTML.ObjectCodebase} {
		switch strings.ToLower(*v) {
		case "":
			*v = HTMLDisarm
		case HTMLAllow, HTMLBlock, HTMLDisarm:
			*v = strings.ToLower(*v)
		case "yes":
			*v = HTMLAllow
		case "no":
			*v = HTMLBlock
		default:
			errs = append(errs, fmt.Errorf("content html %s: %q: want allow, block or disarm", name, *v))
		}
	}
	if opts.HTML.MaxTokens <= 0 {
		opts.HTML.MaxTokens = 200000
	}
	if opts.QPMaxBlankLine == 0 {
		opts.QPMaxBlankLine = 100000
	}
	return &Checker{opts: opts, rules: sets}, errors.Join(errs...)
}

// Check runs every check on msg and returns the reports to add.
func (c *Checker) Check(msg *message.Message) []message.Report {
	var out []message.Report
	out = append(out, c.messageSize(msg)...)
	out = append(out, c.encrypted(msg)...)
	so := c.safeOptions(msg)
	out = append(out, c.disarm(msg, so)...)
	for i := range msg.Parts {
		p := &msg.Parts[i]
		inArchive := p.Parent >= 0 && p.Parent < len(msg.Parts) && msg.Parts[p.Parent].Archive
		out = append(out, c.names(p, inArchive)...)
		out = append(out, c.sizes(p)...)
		out = append(out, c.dangerous(p, so)...)
	}
	return out
}
