package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxSpamListsFile bounds a spam.lists.conf.
const maxSpamListsFile = 1 << 20

// ParseSpamLists reads MailScanner's spam.lists.conf format: one
// "NAME<blanks>zone" per line, "#" starts a comment. Names are matched
// without regard to case.
func ParseSpamLists(b []byte) map[string]string {
	defs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		l := sc.Text()
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if f := strings.Fields(l); len(f) >= 2 {
			defs[strings.ToLower(f[0])] = strings.TrimSuffix(f[1], ".")
		}
	}
	return defs
}

// expandLists adds a [[spam.dnsbl.list]] for each name of IPLists and
// DomainLists, looked up in the Definitions file (spam.lists.conf format,
// relative to dir), as MailScanner's "Spam List" and "Spam Domain List"
// name the lists of its "Spam List Definitions".
func (d *DNSBL) expandLists(dir string, bad func(key, format string, a ...any)) {
	if len(d.IPLists) == 0 && len(d.DomainLists) == 0 {
		return
	}
	if d.Definitions == "" {
		bad("spam.dnsbl.definitions", "spam.dnsbl.definitions: needed to look up ip_lists and domain_lists")
		return
	}
	path := d.Definitions
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	b, err := os.ReadFile(path)
	if err == nil && len(b) > maxSpamListsFile {
		err = fmt.Errorf("larger than %d bytes", maxSpamListsFile)
	}
	if err != nil {
		bad("spam.dnsbl.definitions", "spam.dnsbl.definitions: %s: %v", path, err)
		return
	}
	defs := ParseSpamLists(b)
	for _, l := range []struct {
		key, kind string
		names     []string
	}{{"spam.dnsbl.ip_lists", "ip", d.IPLists}, {"spam.dnsbl.domain_lists", "domain", d.DomainLists}} {
		for _, n := range l.names {
			zone, ok := defs[strings.ToLower(n)]
			if !ok {
				bad(l.key, "%s: %q is not defined in %s", l.key, n, path)
				continue
			}
			d.Lists = append(d.Lists, BLEntry{Name: n, Zone: zone, Kind: l.kind})
		}
	}
}
