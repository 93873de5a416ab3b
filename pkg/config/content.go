package config

import (
	"path/filepath"
	"strings"
)

// Limits bound what qscan takes out of one message ([limits]).
type Limits struct {
	MaxArchiveDepth       int  `toml:"max_archive_depth"`
	MaxArchiveMembers     int  `toml:"max_archive_members"`
	MaxParts              int  `toml:"max_parts"`
	MaxExpandedBytes      Size `toml:"max_expanded_bytes"`
	MaxRatio              int  `toml:"max_ratio"`
	RatioMinBytes         Size `toml:"ratio_min_bytes"`
	MaxMIMEParts          int  `toml:"max_mime_parts"`
	MaxMIMEDepth          int  `toml:"max_mime_depth"`
	MaxHeaderBytes        Size `toml:"max_header_bytes"`
	MaxPartBytes          Size `toml:"max_part_bytes"`
	MaxHeaderParams       int  `toml:"max_header_params"`
	MaxMIMEReadings       int  `toml:"max_mime_readings"`
	AllowPasswordArchives bool `toml:"allow_password_archives"`
	AllowUnopenedArchives bool `toml:"allow_unopened_archives"`
	// UnpackMicrosoftDocuments takes the files embedded in Word, Excel
	// and PowerPoint documents (OLE packages) out to be checked.
	UnpackMicrosoftDocuments bool `toml:"unpack_microsoft_documents"`
}

// Content configures the filename, filetype, size and dangerous-content
// checks ([content]).
type Content struct {
	// Rule files: a list of paths ("" or []: the shipped rules), or a
	// ruleset whose values are space-separated rule file paths.
	FilenameRules        Setting `toml:"filename_rules"`
	FiletypeRules        Setting `toml:"filetype_rules"`
	ArchiveFilenameRules Setting `toml:"archive_filename_rules"`
	ArchiveFiletypeRules Setting `toml:"archive_filetype_rules"`
	MaxMessageSize       Size    `toml:"max_message_size"`
	MaxAttachmentSize    Size    `toml:"max_attachment_size"`
	MinAttachmentSize    Size    `toml:"min_attachment_size"`
	BlockPartial         bool    `toml:"block_partial"`
	BlockExternalBody    bool    `toml:"block_external_body"`
	BlockEncrypted       bool    `toml:"block_encrypted"`
	QPMaxBlankLine       int     `toml:"qp_max_blank_line"`
	WholeMessage         string  `toml:"whole_message"` // "quarantine" or "replace"
	// RenamePattern is the name a plain "rename" rule gives a file,
	// __FILENAME__ standing for its name (MailScanner's Default Rename
	// Pattern).
	RenamePattern string `toml:"rename_pattern"`
	// TNEFContents says what becomes of a winmail.dat whose files passed
	// the checks: "no" (delivered as it came), "add" (its files beside
	// it), "replace" (its files in its place); or a ruleset (MailScanner's
	// "Use TNEF Contents").
	TNEFContents Setting `toml:"tnef_contents"`
	HTML         HTML    `toml:"html"`
}

// HTML says what to do with dangerous HTML ([content.html]): "allow",
// "block" or "disarm" (reported, delivered).
type HTML struct {
	IFrame         Setting `toml:"iframe"`
	Form           Setting `toml:"form"`
	Script         Setting `toml:"script"`
	ObjectCodebase Setting `toml:"object_codebase"`
	// ConvertDangerous makes an HTML body plain text when it holds a tag
	// of a kind set to "allow" (MailScanner's Convert Dangerous HTML To
	// Text); yes/no or a ruleset.
	ConvertDangerous Setting `toml:"convert_dangerous_to_text"`
	// WebBugs: "disarm" replaces remote images of at most 2x2 pixels (or
	// from WebBugServers) by WebBugReplacement; "allow" leaves them.
	WebBugs            Setting  `toml:"web_bugs"`
	WebBugReplacement  string   `toml:"web_bug_replacement"`
	WebBugServers      []string `toml:"web_bug_servers"`
	IgnoredWebBugFiles []string `toml:"ignored_web_bug_files"`
	WebBugAllow        []string `toml:"web_bug_allow"` // senders or sender domains whose images stay
	MaxLinks           int      `toml:"max_links"`
	MaxHTMLBytes       Size     `toml:"max_html_bytes"`
}

func defaultLimits() Limits {
	return Limits{
		MaxArchiveDepth: 8, MaxArchiveMembers: 1000, MaxParts: 5000, MaxExpandedBytes: 200 << 20, MaxRatio: 100,
		RatioMinBytes: 1 << 20, MaxMIMEParts: 1000, MaxMIMEDepth: 50, MaxHeaderBytes: 1 << 20,
		MaxPartBytes: 100 << 20, MaxHeaderParams: 100, MaxMIMEReadings: 16, AllowPasswordArchives: true, UnpackMicrosoftDocuments: true,
	}
}

// defaultContent leaves the rule files empty: the shipped rules built into
// the binary are used.
func defaultContent() Content {
	return Content{
		WholeMessage: "quarantine", RenamePattern: "__FILENAME__.disarmed", TNEFContents: plain("no"),
		BlockPartial: true, BlockExternalBody: true, QPMaxBlankLine: 100000,
		HTML: HTML{IFrame: plain("disarm"), Form: plain("disarm"), Script: plain("disarm"), ObjectCodebase: plain("disarm"),
			ConvertDangerous: plain("no"), WebBugs: plain("disarm"),
			WebBugReplacement:  "data:image/gif;base64,R0lGODlhAQABAJEAAP///wAAAAAAAAAAACH5BAkAAAAALAAAAAABAAEAAAgEAAEEBAA7",
			WebBugServers:      []string{"msgtag.com"},
			IgnoredWebBugFiles: []string{"spacer", "pixel.gif", "pixel.png", "gap", "shim"},
			MaxLinks:           100000, MaxHTMLBytes: 10 << 20},
	}
}

func (l *Limits) validate(bad func(key, format string, a ...any)) {
	for key, v := range map[string]int64{
		"limits.max_archive_depth": int64(l.MaxArchiveDepth), "limits.max_archive_members": int64(l.MaxArchiveMembers),
		"limits.max_parts":          int64(l.MaxParts),
		"limits.max_expanded_bytes": int64(l.MaxExpandedBytes), "limits.max_ratio": int64(l.MaxRatio),
		"limits.max_mime_parts": int64(l.MaxMIMEParts), "limits.max_mime_depth": int64(l.MaxMIMEDepth),
		"limits.max_header_bytes": int64(l.MaxHeaderBytes), "limits.max_part_bytes": int64(l.MaxPartBytes),
		"limits.max_header_params": int64(l.MaxHeaderParams), "limits.max_mime_readings": int64(l.MaxMIMEReadings),
	} {
		if v < 1 {
			bad(key, "%s: must be at least 1", key)
		}
	}
}

func (c *Content) validate(bad func(key, format string, a ...any)) {
	if c.WholeMessage != "quarantine" && c.WholeMessage != "replace" {
		bad("content.whole_message", "content.whole_message: %q: use quarantine or replace", c.WholeMessage)
	}
	if c.HTML.MaxLinks < 1 {
		bad("content.html.max_links", "content.html.max_links: must be at least 1")
	}
	if c.HTML.MaxHTMLBytes < 1 {
		bad("content.html.max_html_bytes", "content.html.max_html_bytes: must be at least 1")
	}
}

// RuleFiles turns a rule-files value (space-separated paths, relative
// ones against the configuration's directory) into paths; none means the
// shipped rules.
func (c *Config) RuleFiles(v string) []string {
	var out []string
	for _, f := range strings.Fields(v) {
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(c.File), f)
		}
		out = append(out, f)
	}
	return out
}
