package msimport

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// yes reads a MailScanner yes/no value.
func yes(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "1", "true", "on":
		return true, nil
	case "no", "0", "false", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

// size reads a MailScanner size: a number with an optional k, m or g
// (powers of 1024), or -1.
func size(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n > 1<<50/mult {
		return 0, fmt.Errorf("%q is not a size", v)
	}
	return n * mult, nil
}

func integer(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", v)
	}
	return n, nil
}

func number(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	return f, nil
}

// isRuleset says whether a value names a ruleset as MailScanner reads
// it: a path (absolute, or ending in .rules) to an existing file that is
// not a report template.
func (c *Conf) isRuleset(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, " \t") || !filepath.IsAbs(v) && !strings.HasSuffix(v, ".rules") {
		return "", false
	}
	switch strings.ToLower(filepath.Ext(v)) {
	case ".txt", ".html", ".htm", ".conf", ".db", ".pid", ".sock":
		if !strings.HasSuffix(v, ".rules") {
			return "", false
		}
	}
	p := c.Path(v)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	return p, true
}

var defaultRule = regexp.MustCompile(`(?i)^\s*(?:from|to|fromorto|fromandto|virus):\s+default\s+(.*?)\s*$`)

// rulesetDefault returns the value of a ruleset's "default" line.
func rulesetDefault(text string) (string, bool) {
	for _, l := range strings.Split(text, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if m := defaultRule.FindStringSubmatch(l); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// readSmall reads a configuration file within MaxFileBytes.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err == nil && len(b) > MaxFileBytes {
		err = fmt.Errorf("read %s: larger than %d bytes", path, MaxFileBytes)
	}
	return b, err
}
