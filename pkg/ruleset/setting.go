package ruleset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Setting is the value of a per-message configuration option: either a
// plain value, or a ruleset. When Rules is set, Plain is the fallback used
// when no rule matches and the ruleset has no default; ParseSetting leaves it
// empty, and the caller may put the option's built-in default there.
type Setting struct {
	Plain string
	Rules *Ruleset
}

// ParseSetting is Options{}.ParseSetting: the default limits.
func ParseSetting(v, baseDir string) (Setting, error) {
	return Options{}.ParseSetting(v, baseDir)
}

// ParseSetting decides whether a configuration value names a ruleset, and
// parses it if so. After trimming white space, v is a ruleset file when
//
//   - it ends in ".rules" (relative names are taken from baseDir, the
//     directory of the configuration file); the file must exist, or
//   - it is an absolute path that names an existing regular file and does
//     not end in ".txt", ".html" or ".htm" (those are report templates).
//
// This is MailScanner's "a value starting with / is a ruleset" narrowed so
// that an absolute path which is not a file (a directory, a path that does
// not exist yet) stays a plain value. Anything else is a plain value.
func (o Options) ParseSetting(v, baseDir string) (Setting, error) {
	v = strings.TrimSpace(v)
	path, isRules := settingPath(v, baseDir)
	if !isRules {
		return Setting{Plain: v}, nil
	}
	rs, err := ParseFile(path, o)
	if err != nil {
		return Setting{}, err
	}
	return Setting{Rules: rs}, nil
}

func settingPath(v, baseDir string) (string, bool) {
	if strings.HasSuffix(v, ".rules") && !strings.ContainsAny(v, " \t") {
		if !filepath.IsAbs(v) && baseDir != "" {
			return filepath.Join(baseDir, v), true
		}
		return v, true
	}
	if !filepath.IsAbs(v) || strings.ContainsAny(v, " \t") {
		return "", false
	}
	switch strings.ToLower(filepath.Ext(v)) {
	case ".txt", ".html", ".htm":
		return "", false
	}
	st, err := os.Stat(v)
	return v, err == nil && st.Mode().IsRegular()
}

// Resolve returns the first-match value for m, or Plain.
func (s Setting) Resolve(m Msg) string {
	v, _ := s.Explain(m)
	return v
}

// Explain is Resolve plus where the value came from: "FILE:LINE" of the
// rule, or "" for the plain value or fallback.
func (s Setting) Explain(m Msg) (value, rule string) {
	if s.Rules == nil {
		return s.Plain, ""
	}
	if v, at, ok := s.Rules.Explain(m); ok {
		return v, at
	}
	return s.Plain, ""
}

// ResolveAll returns every matching value (Ruleset.All), or Plain alone.
func (s Setting) ResolveAll(m Msg) []string {
	if s.Rules != nil {
		if vs := s.Rules.All(m); len(vs) > 0 {
			return vs
		}
	}
	return []string{s.Plain}
}

// AnyRecipient reports whether pred holds for the value of at least one
// recipient (Ruleset.AnyRecipient); a plain value is the same for all.
func (s Setting) AnyRecipient(m Msg, pred func(string) bool) bool {
	if s.Rules == nil {
		return pred(s.Plain)
	}
	// Rule values are never empty, so "" means no rule and no default.
	for _, v := range s.Rules.PerRecipient(m) {
		if v == "" {
			v = s.Plain
		}
		if pred(v) {
			return true
		}
	}
	return false
}

// String is the plain value or the ruleset's file name, for logs and lint.
func (s Setting) String() string {
	if s.Rules != nil {
		return fmt.Sprintf("ruleset %s", s.Rules.Name())
	}
	return s.Plain
}

// Values lists every value s can give: its plain value, then each value of
// its ruleset, so that what depends on them (rule files, templates, spam
// actions) is loaded and checked once, at start-up.
func (s Setting) Values() []string {
	vals := []string{s.Plain}
	if s.Rules != nil {
		s.Rules.CheckValues(func(v string) error { vals = append(vals, v); return nil })
	}
	return vals
}
