package stackutil

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ShippedConfigPath returns the path of the project's etc/qscan.toml, the
// configuration qscan ships.
func ShippedConfigPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("stackutil shipped config: cannot locate source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "etc", "qscan.toml"), nil
}

// ShippedConfig returns the shipped configuration text with the values of
// the named keys replaced, nothing else: set maps "section.key" (e.g.
// "queue.incoming", "virus.clamd.socket") to a TOML value written as it
// is (`"/var/x"`, `["/a"]`). Every key must be present, uncommented, in
// the shipped file: a test changes where things are (paths and addresses),
// never how qscan behaves (intervals, time-outs, limits).
func ShippedConfig(set map[string]string) ([]byte, error) {
	path, err := ShippedConfigPath()
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stackutil shipped config: %w", err)
	}
	return ReplaceKeys(src, set)
}

// ReplaceKeys replaces the values of the named keys of a TOML text (see
// ShippedConfig). It reports every key it did not find.
func ReplaceKeys(src []byte, set map[string]string) ([]byte, error) {
	done := map[string]bool{}
	var out bytes.Buffer
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			section = strings.Trim(t, "[]") + "."
		case t != "" && !strings.HasPrefix(t, "#"):
			if k, _, ok := strings.Cut(t, "="); ok {
				name := section + strings.TrimSpace(k)
				if v, ok := set[name]; ok {
					line = strings.TrimSpace(k) + " = " + v
					done[name] = true
				}
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("stackutil replace keys: %w", err)
	}
	var missing []string
	for k := range set {
		if !done[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("stackutil replace keys: not in the configuration: %s", strings.Join(missing, ", "))
	}
	return out.Bytes(), nil
}

// Quote writes a TOML string.
func Quote(s string) string { return fmt.Sprintf("%q", s) }

// ShippedFor returns the shipped configuration pointed at the stack's
// queues, with qscan's own state (work dir, quarantine, database,
// signatures) under root and the rule files of the checkout: paths and
// addresses changed, nothing else. The metrics listener is off (its
// production default) so that runs do not collide on its port. It creates
// the directories under root.
func ShippedFor(s Stack, root string) ([]byte, error) {
	path, err := ShippedConfigPath()
	if err != nil {
		return nil, err
	}
	etc := filepath.Dir(path)
	for _, d := range []string{"work", "quarantine", "signatures"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("stackutil shipped config: %w", err)
		}
	}
	at := func(p ...string) string { return Quote(filepath.Join(append([]string{root}, p...)...)) }
	rule := func(name string) string { return "[" + Quote(filepath.Join(etc, "rules", name)) + "]" }
	return ShippedConfig(map[string]string{
		"queue.incoming":                 "[" + Quote(s.Incoming) + "]",
		"queue.outgoing":                 Quote(s.Outgoing),
		"queue.work_dir":                 at("work"),
		"queue.pid_file":                 at("work", "qscan.pid"),
		"quarantine.dir":                 at("quarantine"),
		"store.path":                     at("work", "qscan.db"),
		"check.off_file":                 at("work", "qscan.off"),
		"virus.builtin.signatures":       at("signatures"),
		"virus.clamd.socket":             Quote(s.ClamdSocket),
		"spam.spamd.address":             Quote(s.SpamdAddr),
		"metrics.listen":                 `""`,
		"notify.postmaster":              Quote("postmaster@example.test"),
		"content.filename_rules":         rule("filename.rules.conf"),
		"content.filetype_rules":         rule("filetype.rules.conf"),
		"content.archive_filename_rules": rule("archives.filename.rules.conf"),
		"content.archive_filetype_rules": rule("archives.filetype.rules.conf"),
	})
}
