// Package etc embeds qscan's shipped configuration files: the documented
// default configuration, the rule files and the report templates.
package etc

import (
	"embed"
	_ "embed"
)

// DefaultConfig is etc/qscan.toml as shipped.
//
//go:embed qscan.toml
var DefaultConfig []byte

// Rules holds the shipped rule files, rules/*.conf: they are used when
// the configuration names no rule file.
//
//go:embed rules/*.conf
var Rules embed.FS

// Reports holds the shipped report and replacement-text templates,
// reports/<language>/*.txt: used when [notify] reports is "".
//
//go:embed reports
var Reports embed.FS
