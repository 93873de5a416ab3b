// Package etc embeds qscan's shipped configuration files: the documented
// default configuration, the rule files and the report templates.
package etc

import _ "embed"

// DefaultConfig is etc/qscan.toml as shipped.
//
//go:embed qscan.toml
var DefaultConfig []byte
