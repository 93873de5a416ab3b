package config

import (
	"github.com/qscan/qscan/pkg/ruleset"
)

// Setting is a per-message option: a plain value, or the path of a
// MailScanner-style ruleset (a file ending in .rules, or an absolute path
// to a file) that chooses the value by sender, recipient, client address
// or virus name.
type Setting struct {
	Raw string
	ruleset.Setting
}

// UnmarshalText keeps the raw value; Parse resolves it once the file's
// directory is known.
func (s *Setting) UnmarshalText(b []byte) error {
	s.Raw = string(b)
	return nil
}

// MarshalText writes the raw value back.
func (s Setting) MarshalText() ([]byte, error) { return []byte(s.Raw), nil }

// resolve parses the ruleset, if the value names one, relative to dir.
func (s *Setting) resolve(dir string) error {
	st, err := ruleset.ParseSetting(s.Raw, dir)
	if err != nil {
		return err
	}
	s.Setting = st
	return nil
}

// plain makes a Setting with a plain value.
func plain(v string) Setting { return Setting{Raw: v, Setting: ruleset.Setting{Plain: v}} }

// Settings lists the per-message options (value or ruleset) by key.
func (c *Config) Settings() map[string]*Setting {
	return map[string]*Setting{
		"virus.scan":        &c.Virus.Scan,
		"spam.check":        &c.Spam.Check,
		"notify.postmaster": &c.Notify.Postmaster,
	}
}
