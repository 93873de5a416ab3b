package config

import (
	"fmt"
	"strconv"
	"strings"

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

// UnmarshalTOML keeps the raw value (a string, number, boolean, or a list
// of words joined by spaces, as MailScanner writes action lists); Parse
// resolves it once the file's directory is known.
func (s *Setting) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		s.Raw = x
	case int64:
		s.Raw = strconv.FormatInt(x, 10)
	case float64:
		s.Raw = strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		s.Raw = map[bool]string{true: "yes", false: "no"}[x]
	case []any:
		words := make([]string, 0, len(x))
		for _, e := range x {
			w, ok := e.(string)
			if !ok {
				return fmt.Errorf("invalid list element %v: want a string", e)
			}
			words = append(words, w)
		}
		s.Raw = strings.Join(words, " ")
	default:
		return fmt.Errorf("invalid value %v: want a value or a ruleset file name", v)
	}
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
	m := map[string]*Setting{
		"virus.scan":                     &c.Virus.Scan,
		"virus.deliver_cleaned":          &c.Virus.DeliverCleaned,
		"virus.deliver_silent":           &c.Virus.DeliverSilent,
		"spam.check":                     &c.Spam.Check,
		"spam.definitely_not_spam":       &c.Spam.DefinitelyNotSpam,
		"spam.definitely_spam":           &c.Spam.DefinitelySpam,
		"spam.required_score":            &c.Spam.RequiredScore,
		"spam.high_score":                &c.Spam.HighScore,
		"spam.spam_actions":              &c.Spam.SpamActions,
		"spam.high_spam_actions":         &c.Spam.HighSpamActions,
		"spam.ham_actions":               &c.Spam.HamActions,
		"notify.postmaster":              &c.Notify.Postmaster,
		"notify.language":                &c.Notify.Language,
		"notify.full_headers":            &c.Notify.FullHeaders,
		"headers.remove":                 &c.Headers.Remove,
		"quarantine.archive_mail":        &c.Quarantine.ArchiveMail,
		"content.tnef_contents":          &c.Content.TNEFContents,
		"content.filename_rules":         &c.Content.FilenameRules,
		"content.filetype_rules":         &c.Content.FiletypeRules,
		"content.archive_filename_rules": &c.Content.ArchiveFilenameRules,
		"content.archive_filetype_rules": &c.Content.ArchiveFiletypeRules,
	}
	for k, v := range c.dangerousSettings() {
		m[k] = v
	}
	return m
}
