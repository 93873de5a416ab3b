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
	IFrame         string `toml:"iframe"`
	Form           string `toml:"form"`
	Script         string `toml:"script"`
	ObjectCodebase string `toml:"object_codebase"`
}

func defaultLimits() Limits {
	return Limits{
		MaxArchiveDepth: 8, MaxArchiveMembers: 1000, MaxParts: 5000, MaxExpandedBytes: 200 << 20, MaxRatio: 100,
		RatioMinBytes: 1 << 20, MaxMIMEParts: 1000, MaxMIMEDepth: 50, MaxHeaderBytes: 1 << 20,
		MaxPartBytes: 100 << 20, MaxHeaderParams: 100, AllowPasswordArchives: true, UnpackMicrosoftDocuments: true,
	}
}

// defaultContent leaves the rule files empty: the shipped rules built into
// the binary are used.
func defaultContent() Content {
	return Content{
		WholeMessage: "quarantine", RenamePattern: "__FILENAME__.disarmed", TNEFContents: plain("no"),
		BlockPartial: true, BlockExternalBody: true, QPMaxBlankLine: 100000,
		HTML: HTML{IFrame: "disarm", Form: "disarm", Script: "disarm", ObjectCodebase: "disarm"},
	}
}

func (l *Limits) validate(bad func(key, format string, a ...any)) {
	for key, v := range map[string]int64{
		"limits.max_archive_depth": int64(l.MaxArchiveDepth), "limits.max_archive_members": int64(l.MaxArchiveMembers),
		"limits.max_parts":          int64(l.MaxParts),
		"limits.max_expanded_bytes": int64(l.MaxExpandedBytes), "limits.max_ratio": int64(l.MaxRatio),
		"limits.max_mime_parts": int64(l.MaxMIMEParts), "limits.max_mime_depth": int64(l.MaxMIMEDepth),
		"limits.max_header_bytes": int64(l.MaxHeaderBytes), "limits.max_part_bytes": int64(l.MaxPartBytes),
		"limits.max_header_params": int64(l.MaxHeaderParams),
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
	for key, v := range map[string]string{"content.html.iframe": c.HTML.IFrame, "content.html.form": c.HTML.Form,
		"content.html.script": c.HTML.Script, "content.html.object_codebase": c.HTML.ObjectCodebase} {
		switch v {
		case "allow", "block", "disarm":
		default:
			bad(key, "%s: %q: use allow, block or disarm", key, v)
		}
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
