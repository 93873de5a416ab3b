package stackutil

import (
	"bytes"
	"fmt"
	"strings"
)

// maxEnvBytes bounds the script output parseEnv accepts.
const maxEnvBytes = 64 << 10

// parseEnv reads `export NAME=VALUE` lines as printed by bash's printf %q:
// VALUE is one shell word made of bare characters, backslash escapes,
// '...' and "..." quotes. Empty lines and # comments are skipped.
func parseEnv(out []byte) (map[string]string, error) {
	if len(out) > maxEnvBytes {
		return nil, fmt.Errorf("stackutil parse env: output larger than %d bytes", maxEnvBytes)
	}
	vars := map[string]string{}
	for i, line := range bytes.Split(out, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		rest, ok := strings.CutPrefix(s, "export ")
		name, word, eq := strings.Cut(rest, "=")
		if !ok || !eq || !isName(name) {
			return nil, fmt.Errorf("stackutil parse env: line %d: want export NAME=VALUE, got %q", i+1, s)
		}
		value, err := unquote(word)
		if err != nil {
			return nil, fmt.Errorf("stackutil parse env: line %d: %w", i+1, err)
		}
		vars[name] = value
	}
	return vars, nil
}

func isName(s string) bool {
	for i, c := range s {
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// unquote undoes shell quoting of one word.
func unquote(word string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		switch c := word[i]; c {
		case '\\':
			i++
			if i == len(word) {
				return "", fmt.Errorf("trailing backslash in %q", word)
			}
			b.WriteByte(word[i])
		case '\'':
			end := strings.IndexByte(word[i+1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated ' in %q", word)
			}
			b.WriteString(word[i+1 : i+1+end])
			i += end + 1
		case '"':
			n, err := doubleQuoted(&b, word[i+1:])
			if err != nil {
				return "", fmt.Errorf("%w in %q", err, word)
			}
			i += n + 1
		case ' ', '\t', '$', '`', ';', '|', '&', '<', '>', '(', ')':
			return "", fmt.Errorf("unsupported character %q in %q", c, word)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// doubleQuoted copies the inside of a "..." string (s starts after the
// opening quote) to b and returns the index of the closing quote.
func doubleQuoted(b *strings.Builder, s string) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i, nil
		case c == '$' || c == '`':
			return 0, fmt.Errorf("expansion %q inside \"\"", c)
		case c == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0:
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return 0, fmt.Errorf("unterminated \"")
}
