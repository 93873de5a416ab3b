package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/spam"
)

type problem struct{ key, msg string }

// validate checks values and the filesystem: directories exist with usable
// permissions, and the incoming and outgoing queues share a filesystem
// (qscan hard-links unchanged bodies between them).
func (c *Config) validate() []problem {
	var ps []problem
	bad := func(key, format string, a ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, a...)}) }
	q := c.Queue
	switch q.MTA {
	case "sendmail", "exim", "postfix":
	default:
		bad("queue.mta", "queue.mta: %q: use sendmail, postfix or exim", q.MTA)
	}
	// The SMTP filter's incoming queue is its spool and it re-injects
	// over SMTP: queue.incoming and queue.outgoing are not used.
	filter := c.SMTP.On()
	if len(q.Incoming) == 0 && !filter {
		bad("queue.incoming", "queue.incoming: at least one incoming queue directory is needed")
	}
	for _, in := range q.Incoming {
		if filter {
			break
		}
		if err := usableDir(in); err != nil {
			bad("queue.incoming", "queue.incoming: %v", err)
		} else if q.Outgoing != "" && !sameFS(in, q.Outgoing) {
			bad("queue.incoming", "queue.incoming: %s is not on the same filesystem as queue.outgoing %s (needed for hard links and atomic moves)", in, q.Outgoing)
		}
		if filepath.Clean(in) == filepath.Clean(q.Outgoing) {
			bad("queue.incoming", "queue.incoming: %s is also the outgoing queue: they must be different directories", in)
		}
	}
	if filter {
		// nothing of queue.outgoing is used
	} else if q.Outgoing == "" {
		bad("queue.outgoing", "queue.outgoing: the outgoing queue directory is needed")
	} else if err := usableDir(q.Outgoing); err != nil {
		bad("queue.outgoing", "queue.outgoing: %v", err)
	}
	if err := creatableDir(q.WorkDir); err != nil {
		bad("queue.work_dir", "queue.work_dir: %v", err)
	}
	if q.ReceivedIPHeader < 0 {
		bad("queue.received_ip_header", "queue.received_ip_header: %d: use 0 (off) or N >= 1", q.ReceivedIPHeader)
	}
	if q.RescanInterval.D() < 1e9 {
		bad("queue.rescan_interval", "queue.rescan_interval: %s is too short (at least 1s)", q.RescanInterval.D())
	}
	if q.Kick && q.Sendmail == "" && !filter {
		bad("queue.sendmail", "queue.sendmail: needed when queue.kick = true")
	}
	if q.Kick && q.Sendmail != "" && !filter {
		if st, err := os.Stat(q.Sendmail); err != nil || st.Mode()&0o111 == 0 {
			bad("queue.sendmail", "queue.sendmail: %s is not an executable file", q.Sendmail)
		}
	}
	b := c.Batch
	if b.MaxMessages < 1 {
		bad("batch.max_messages", "batch.max_messages: %d: must be at least 1", b.MaxMessages)
	}
	if b.MaxBytes < 1 {
		bad("batch.max_bytes", "batch.max_bytes: must be at least 1 byte")
	}
	if b.MaxAttempts < 1 {
		bad("batch.max_attempts", "batch.max_attempts: %d: must be at least 1", b.MaxAttempts)
	}
	if b.Workers < 0 {
		bad("batch.workers", "batch.workers: %d: must be 0 (automatic) or more", b.Workers)
	}
	if b.MessageTimeout.D() < 1e9 {
		bad("batch.message_timeout", "batch.message_timeout: too short (at least 1s)")
	}
	if b.RetryMin.D() <= 0 || b.RetryMax.D() < b.RetryMin.D() {
		bad("batch.retry_min", "batch.retry_min/retry_max: need 0 < retry_min <= retry_max")
	}
	if err := creatableDir(c.Quarantine.Dir); err != nil {
		bad("quarantine.dir", "quarantine.dir: %v", err)
	} else if st, err := os.Stat(c.Quarantine.Dir); err == nil && st.Mode().Perm()&0o022 != 0 {
		bad("quarantine.dir", "quarantine.dir: %s is group- or world-writable (%s): chmod 0700 it", c.Quarantine.Dir, st.Mode().Perm())
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("log.level", "log.level: %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "log.format: %q: use text or json", c.Log.Format)
	}
	if err := validOrgName(c.Headers.OrgName); err != nil {
		bad("headers.org_name", "headers.org_name: %v", err)
	}
	for key, v := range map[string]string{"headers.clean": c.Headers.Clean, "headers.virus_subject_tag": c.Headers.VirusSubjectTag,
		"headers.filename_subject_tag": c.Headers.FilenameSubjectTag, "headers.content_subject_tag": c.Headers.ContentSubjectTag,
		"headers.size_subject_tag": c.Headers.SizeSubjectTag} {
		if strings.ContainsAny(v, "\r\n\x00") {
			bad(key, "%s: must be one line", key)
		}
	}
	if c.Store.Path == "" {
		bad("store.path", "store.path: needed")
	} else if err := creatableDir(filepath.Dir(c.Store.Path)); err != nil {
		bad("store.path", "store.path: %v", err)
	}
	if c.Store.LogRetention < 0 {
		bad("store.log_retention", "store.log_retention: negative")
	}
	if strings.ContainsAny(c.Store.Host, " \t\r\n\x00") {
		bad("store.host", "store.host: one word (a host name)")
	}
	c.Store.validate(bad)
	if len(c.Web.Peers) > 0 && (c.Store.PeerKey == "" || c.Store.Driver != "postgres") {
		bad("web.peers", "web.peers: needs store.driver = \"postgres\" and store.peer_key")
	}
	for key, st := range c.Settings() {
		check := func(v string) error { return nil }
		switch key {
		case "virus.scan", "spam.check", "virus.deliver_cleaned", "virus.deliver_silent", "spam.definitely_not_spam", "spam.definitely_spam", "notify.full_headers":
			check = yesNo
		case "notify.postmaster":
			check = mailAddress
		case "quarantine.archive_mail":
			check = archiveMail
		case "content.tnef_contents":
			check = oneOf("no", "add", "replace")
		case "notify.language":
			check = language
		case "content.filename_rules", "content.filetype_rules", "content.archive_filename_rules", "content.archive_filetype_rules":
			check = func(v string) error {
				for _, f := range c.RuleFiles(v) {
					if _, err := os.Stat(f); err != nil {
						return fmt.Errorf("rule file %s: %w", f, unwrapPath(err))
					}
				}
				return nil
			}
		case "spam.required_score", "spam.high_score":
			check = func(v string) error { _, err := Score(v); return err }
		case "spam.spam_actions", "spam.high_spam_actions", "spam.ham_actions":
			check = func(v string) error { _, err := spam.ParseActions(v); return err }
		}
		if dc := dangerousCheck(key); dc != nil {
			check = dc
		}
		if st.Rules != nil {
			if err := st.Rules.CheckValues(check); err != nil {
				bad(key, "%s: %v", key, err)
			}
		} else if err := check(st.Plain); err != nil {
			bad(key, "%s: %v", key, err)
		}
	}
	if c.Notify.Reports != "" {
		if err := usableReadDir(c.Notify.Reports); err != nil {
			bad("notify.reports", "notify.reports: %v", err)
		}
	}
	c.Virus.validate(bad)
	c.Spam.DNSBL.expandLists(filepath.Dir(c.File), bad)
	c.Spam.validate(bad)
	c.Limits.validate(bad)
	c.Archives.validate(bad)
	c.Content.validate(bad)
	c.validateDangerous(bad)
	c.SMTP.validate(bad)
	c.Web.validate(bad)
	return ps
}

// validate checks the shared store's settings.
func (s Store) validate(bad func(key, format string, a ...any)) {
	switch s.Driver {
	case "sqlite":
		if s.DSN != "" {
			bad("store.dsn", "store.dsn: set, but store.driver is \"sqlite\" (set store.driver = \"postgres\")")
		}
	case "postgres":
		if !strings.HasPrefix(s.DSN, "postgres://") && !strings.HasPrefix(s.DSN, "postgresql://") && !strings.Contains(s.DSN, "=") {
			bad("store.dsn", "store.dsn: needed with store.driver = \"postgres\": postgres://user:password@host:5432/db")
		}
	default:
		bad("store.driver", "store.driver: %q: want \"sqlite\" or \"postgres\"", s.Driver)
	}
	if s.PeerKey != "" && len(s.PeerKey) < 32 {
		bad("store.peer_key", "store.peer_key: %d characters: use at least 32 random ones (e.g. openssl rand -hex 32)", len(s.PeerKey))
	}
}

// validate checks [web]: TLS files in pairs, plain HTTP on loopback only,
// a digest key long enough to sign with.
func (w Web) validate(bad func(key, format string, a ...any)) {
	if (w.TLSCert == "") != (w.TLSKey == "") {
		bad("web.tls_cert", "web.tls_cert, web.tls_key: set both or neither")
	}
	for key, f := range map[string]string{"web.tls_cert": w.TLSCert, "web.tls_key": w.TLSKey} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				bad(key, "%s: %v", key, err)
			}
		}
	}
	if w.Listen != "" {
		host, _, err := net.SplitHostPort(w.Listen)
		ip := net.ParseIP(host)
		switch {
		case err != nil:
			bad("web.listen", "web.listen: %q: want host:port", w.Listen)
		case w.TLSCert == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()):
			bad("web.listen", "web.listen: %s: plain HTTP is only served on a loopback address; set web.tls_cert and web.tls_key", w.Listen)
		}
	}
	if w.DigestKey != "" && len(w.DigestKey) < 32 {
		bad("web.digest_key", "web.digest_key: %d characters: use at least 32 random ones (e.g. openssl rand -hex 32)", len(w.DigestKey))
	}
	if w.DigestLinkTTL.D() < time.Minute {
		bad("web.digest_link_ttl", "web.digest_link_ttl: %s is too short (at least 1m)", w.DigestLinkTTL.D())
	}
	for h, u := range w.Peers {
		if h == "" || strings.ContainsAny(h, " \t\r\n\x00") || !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			bad("web.peers", "web.peers: %q = %q: want host = \"https://host[:port]\"", h, u)
		}
	}
	if w.BaseURL != "" && !strings.HasPrefix(w.BaseURL, "https://") && !strings.HasPrefix(w.BaseURL, "http://") {
		bad("web.base_url", "web.base_url: %q: want https://host[:port]", w.BaseURL)
	}
}

func language(l string) error {
	if l == "" || strings.ContainsAny(l, "/.\\ ") {
		return fmt.Errorf("%q: a directory name under etc/reports, e.g. en or fr", l)
	}
	return nil
}

func yesNo(v string) error {
	switch strings.ToLower(v) {
	case "yes", "no", "1", "0", "true", "false", "on", "off":
		return nil
	}
	return fmt.Errorf("%q: use yes or no", v)
}

// mailAddress accepts "" (none) or one plain address.
// oneOf accepts the words given.
func oneOf(words ...string) func(string) error {
	return func(v string) error {
		for _, w := range words {
			if v == w {
				return nil
			}
		}
		return fmt.Errorf("%q: use %s", v, strings.Join(words, ", "))
	}
}

// archiveMail accepts absolute directories and addresses.
func archiveMail(v string) error {
	for _, w := range strings.Fields(v) {
		if !strings.HasPrefix(w, "/") && !strings.Contains(w, "@") {
			return fmt.Errorf("%q is neither an absolute directory nor a mail address", w)
		}
	}
	return nil
}

func mailAddress(v string) error {
	if v != "" && (!strings.Contains(v, "@") || strings.ContainsAny(v, " \t\r\n<>,")) {
		return fmt.Errorf("%q is not a mail address", v)
	}
	return nil
}

// validToken checks that s can be part of a header name.
// validOrgName checks the org name that goes into every X-<org>-QScan
// header name: one word of letters, digits and inner '-', as MailScanner
// asks of %org-name% ("no spaces, no dots"); message.QScanHeader would
// drop anything else, and the headers would not say what was configured.
func validOrgName(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if len(s) > 40 {
		return fmt.Errorf("%q: at most 40 characters (it goes into header names)", s)
	}
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%q: only letters, digits and '-' (no spaces, no dots: it goes into header names, e.g. X-yoursite-QScan)", s)
		}
	}
	if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
		return fmt.Errorf("%q: must not start or end with '-'", s)
	}
	return nil
}

func usableDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if err := syscall.Access(dir, 0o7); err != nil { // R_OK|W_OK|X_OK
		return fmt.Errorf("%s: not readable and writable by this user: %w", dir, err)
	}
	return nil
}

// creatableDir accepts an existing usable directory or one whose nearest
// existing parent is usable (qscan creates it at start).
func creatableDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("needed")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			return usableDir(d)
		}
		if d == filepath.Dir(d) {
			return fmt.Errorf("%s: no existing parent", dir)
		}
	}
}

func sameFS(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return true // reported elsewhere
	}
	return sa.Dev == sb.Dev
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// keyLines maps "section.key" (and "section") to the line where the file
// sets it, so that errors point at the right line.
func keyLines(data []byte) map[string]int {
	m := map[string]int{}
	sec := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "["):
			// [table] or [[array.of.tables]]: keys of an array's
			// entries point at their first entry.
			if i := strings.Index(l, "]"); i > 0 {
				sec = strings.TrimSpace(strings.TrimLeft(l[:i], "["))
				if _, ok := m[sec]; !ok {
					m[sec] = n
				}
			}
		case l == "" || l[0] == '#':
		default:
			if i := strings.Index(l, "="); i > 0 {
				k := strings.Trim(strings.TrimSpace(l[:i]), `"`)
				full := k
				if sec != "" {
					full = sec + "." + k
				}
				if _, ok := m[full]; !ok {
					m[full] = n
				}
			}
		}
	}
	return m
}
