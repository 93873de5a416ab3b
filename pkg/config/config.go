// Package config reads qscan's TOML configuration: one struct, the defaults
// in one place, and validation that reports every error at once as
// FILE:LINE: text.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration.
type Config struct {
	Queue      Queue      `toml:"queue"`
	Batch      Batch      `toml:"batch"`
	Quarantine Quarantine `toml:"quarantine"`
	Log        Log        `toml:"log"`
	Headers    Headers    `toml:"headers"`
	Store      Store      `toml:"store"`
	Virus      Virus      `toml:"virus"`
	Limits     Limits     `toml:"limits"`
	Archives   Archives   `toml:"archives"`
	Content    Content    `toml:"content"`
	Metrics    Metrics    `toml:"metrics"`
	Notify     Notify     `toml:"notify"`
	Spam       Spam       `toml:"spam"`
	Check      Check      `toml:"check"`
	Phishing   Phishing   `toml:"phishing"`
	Signature  Signature  `toml:"signature"`
	SMTP       SMTP       `toml:"smtp"`
	Web        Web        `toml:"web"`

	// File is the path the configuration was read from ("" for defaults).
	File string `toml:"-"`
}

// Queue names the queue directories and how qscan watches them.
type Queue struct {
	Incoming       StringList `toml:"incoming"`
	Outgoing       string     `toml:"outgoing"`
	WorkDir        string     `toml:"work_dir"`
	RescanInterval Duration   `toml:"rescan_interval"`
	PidFile        string     `toml:"pid_file"`
	Kick           bool       `toml:"kick"`
	Sendmail       string     `toml:"sendmail"`
	SendmailArgs   []string   `toml:"sendmail_args"`
	// MTA is the format of the queues: sendmail, postfix or exim.
	MTA           string   `toml:"mta"`
	Exim          string   `toml:"exim"`
	EximArgs      []string `toml:"exim_args"`
	SplitSpool    bool     `toml:"split_spool"`
	Postkick      string   `toml:"postkick"`
	Postconf      string   `toml:"postconf"`
	PostfixConfig string   `toml:"postfix_config"`
	// ReceivedIPHeader, when N > 0, takes the client address from the
	// first IP address of the N-th Received field from the top instead of
	// the queue file (MailScanner's "Read IP Address From Received Header").
	ReceivedIPHeader int `toml:"received_ip_header"`
}

// Batch bounds one batch and the retries of a message.
type Batch struct {
	MaxMessages    int      `toml:"max_messages"`
	MaxBytes       Size     `toml:"max_bytes"`
	MaxAttempts    int      `toml:"max_attempts"`
	Workers        int      `toml:"workers"`
	MessageTimeout Duration `toml:"message_timeout"`
	RetryMin       Duration `toml:"retry_min"`
	RetryMax       Duration `toml:"retry_max"`
}

// Quarantine is where whole messages and removed parts are kept.
type Quarantine struct {
	Dir string `toml:"dir"`
	// ArchiveMail keeps a copy of every message: absolute directory paths
	// and addresses separated by blanks, or a ruleset (MailScanner's
	// "Archive Mail").
	ArchiveMail Setting `toml:"archive_mail"`
}

// Log chooses the log level, format and destination.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
	Syslog bool   `toml:"syslog"`
}

// Headers are the headers qscan adds, in MailScanner's naming scheme
// (X-<org_name>-QScan...).
type Headers struct {
	OrgName    string `toml:"org_name"`
	Clean      string `toml:"clean"`
	AddFrom    bool   `toml:"add_envelope_from"`
	AddTo      bool   `toml:"add_envelope_to"`
	AddID      bool   `toml:"add_id"`
	PlaceAtTop bool   `toml:"place_at_top"`
	// Subject tags of messages delivered with parts removed; "" for none.
	VirusSubjectTag    string `toml:"virus_subject_tag"`
	FilenameSubjectTag string `toml:"filename_subject_tag"`
	ContentSubjectTag  string `toml:"content_subject_tag"`
	SizeSubjectTag     string `toml:"size_subject_tag"`
	// Remove names header fields taken out of every delivered message
	// (MailScanner's "Remove These Headers"): names separated by blanks,
	// or a ruleset.
	Remove Setting `toml:"remove"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `toml:"listen"` // "127.0.0.1:9742"; "" (default): off
}

// Notify configures the reports qscan mails.
type Notify struct {
	Postmaster    Setting `toml:"postmaster"`     // receives the per-batch virus report ("": none); or a ruleset
	Language      Setting `toml:"language"`       // etc/reports/<language>/, or a ruleset
	Reports       string  `toml:"reports"`        // template directory; "": the shipped templates
	SenderViruses bool    `toml:"sender_viruses"` // notify senders of viruses (default false: backscatter)
	SenderBlocked bool    `toml:"sender_blocked"` // notify senders of blocked filenames/filetypes (default true)
	SenderOther   bool    `toml:"sender_other"`   // notify senders of other blocked content (default false)
	InlineWarning bool    `toml:"inline_warning"` // put a warning at the top of cleaned messages
	Hostname      string  `toml:"hostname"`       // names this scanner in reports; "": the host name
	FullHeaders   Setting `toml:"full_headers"`   // the postmaster report shows the whole header (yes/no or a ruleset)
}

// Check configures `qscan check`, the health check cron runs.
type Check struct {
	QueueMaxAge    Duration `toml:"queue_max_age"`
	EngineDownMax  Duration `toml:"engine_down_max"`
	StatusMaxAge   Duration `toml:"status_max_age"`
	BatchMaxAge    Duration `toml:"batch_max_age"`
	OutboxMaxAge   Duration `toml:"outbox_max_age"` // shared store: the oldest outbox row older than this is a problem
	MinFreePercent float64  `toml:"min_free_percent"`
	MinFreeBytes   Size     `toml:"min_free_bytes"`
	OffFile        string   `toml:"off_file"`
	RestartLog     string   `toml:"restart_log"`
}

// Web configures the web desk (`qscan web`, or inside `qscan run` when
// Listen is set) and the quarantine digests (`qscan digest`).
type Web struct {
	Listen        string   `toml:"listen"`          // "127.0.0.1:8025"; "" (default): not in the daemon
	TLSCert       string   `toml:"tls_cert"`        // PEM certificate; with TLSKey: HTTPS (required off loopback)
	TLSKey        string   `toml:"tls_key"`         // PEM private key
	DigestKey     string   `toml:"digest_key"`      // HMAC-SHA256 key of the digests' release links; "": no links
	DigestLinkTTL Duration `toml:"digest_link_ttl"` // lifetime of a release link; default 168h (7 days)
	BaseURL       string   `toml:"base_url"`        // the desk's address as users reach it, for the links
	// Peers are the other hosts of a group sharing a PostgreSQL store:
	// host name ([store] host) to the base URL of its web desk, for the
	// internal quarantine API (signed with [store] peer_key).
	Peers map[string]string `toml:"peers"`
}

// Store is the embedded database (processing attempts, quarantine index,
// message log).
type Store struct {
	Path         string   `toml:"path"`
	LogRetention Duration `toml:"log_retention"` // message-log rows older than this are purged daily; 0: never
	Host         string   `toml:"host"`          // names this scanner in the message log; "": the host name
	// Driver is "sqlite" (default: everything in Path) or "postgres": the
	// message log, quarantine index, users, lists, audit log and digest
	// links in the PostgreSQL of DSN, shared by a group of hosts; the
	// attempts, the journal and the log's outbox stay in Path.
	Driver string `toml:"driver"`
	DSN    string `toml:"dsn"` // postgres://user:password@host:5432/db?sslmode=verify-full
	// PeerKey signs the group's internal quarantine API (HMAC-SHA256);
	// "": no API (another host's quarantine cannot be released here).
	PeerKey string `toml:"peer_key"`
}

// Defaults returns the configuration used for every option the file does
// not set: the production layout of a sendmail server.
func Defaults() Config {
	return Config{
		Queue: Queue{
			Incoming:       StringList{"/var/spool/mqueue.in"},
			Outgoing:       "/var/spool/mqueue",
			WorkDir:        "/var/spool/qscan/work",
			RescanInterval: Duration(30e9),
			PidFile:        "/run/qscan/qscan.pid",
			Sendmail:       "/usr/sbin/sendmail",
			MTA:            "sendmail",
			Exim:           "/usr/sbin/exim4",
			Postkick:       "/usr/sbin/postkick",
			Postconf:       "/usr/sbin/postconf",
		},
		Batch: Batch{
			MaxMessages:    30,
			MaxBytes:       50 << 20,
			MaxAttempts:    6,
			MessageTimeout: Duration(300e9),
			RetryMin:       Duration(30e9),
			RetryMax:       Duration(600e9),
		},
		Quarantine: Quarantine{Dir: "/var/spool/qscan/quarantine"},
		Log:        Log{Level: "info", Format: "text"},
		Headers: Headers{OrgName: "yoursite", Clean: "Found to be clean", AddFrom: true, AddID: true,
			VirusSubjectTag: "{Virus?}", FilenameSubjectTag: "{Filename?}", ContentSubjectTag: "{Dangerous Content?}", SizeSubjectTag: "{Size}"},
		Store:     Store{Path: "/var/lib/qscan/qscan.db", LogRetention: Duration(90 * 24 * time.Hour), Driver: "sqlite"},
		Virus:     defaultVirus(),
		Limits:    defaultLimits(),
		Content:   defaultContent(),
		Notify:    Notify{Postmaster: plain("postmaster@localhost"), Language: plain("en"), SenderBlocked: true, FullHeaders: plain("no")},
		Spam:      defaultSpam(),
		Phishing:  defaultPhishing(),
		Signature: defaultSignature(),
		Web:       Web{DigestLinkTTL: Duration(7 * 24 * time.Hour)},
		Check: Check{QueueMaxAge: Duration(30 * 60e9), EngineDownMax: Duration(10 * 60e9), StatusMaxAge: Duration(5 * 60e9),
			BatchMaxAge: Duration(30 * 60e9), OutboxMaxAge: Duration(15 * 60e9), MinFreePercent: 5, MinFreeBytes: 500 << 20, OffFile: "/run/qscan/qscan.off"},
		Archives: defaultArchives(),
		SMTP:     defaultSMTP(),
	}
}

// Error is one configuration problem at a place in the file.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one file; Load returns it as its error.
type Errors []Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads and validates the file at path. Relative paths in the file are
// resolved against the file's directory. The error, if any, is Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; name is used in messages and to
// resolve relative paths.
func Parse(name string, data []byte) (*Config, error) {
	c := Defaults()
	c.File = name
	lines := keyLines(data)
	var errs Errors
	add := func(key, format string, a ...any) {
		errs = append(errs, Error{File: name, Line: lines[key], Msg: fmt.Sprintf(format, a...)})
	}
	var sections map[string]toml.Primitive
	md, err := toml.Decode(string(data), &sections)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{File: name, Line: pe.Position.Line, Msg: pe.Message}}
		}
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	targets := c.sections()
	names := make([]string, 0, len(sections))
	for k := range sections {
		names = append(names, k)
	}
	sort.Strings(names)
	// Keys are reported at their own line, or else at the nearest
	// enclosing table's.
	at := func(key string) string {
		for k := key; ; k = k[:strings.LastIndex(k, ".")] {
			if _, ok := lines[k]; ok || !strings.Contains(k, ".") {
				return k
			}
		}
	}
	failed := map[string]bool{} // keys whose value could not be decoded
	d := tableDecoder{md: md, report: func(key, msg string) {
		if msg == "" {
			add(at(key), "unknown key %q", key)
			return
		}
		failed[key] = true
		add(at(key), "%s: %s", key, msg)
	}}
	for _, sec := range names {
		dst, ok := targets[sec]
		if !ok {
			add(sec, "unknown section [%s]", sec)
			continue
		}
		d.decode(sections[sec], reflect.ValueOf(dst).Elem(), sec)
	}
	for _, k := range md.Undecoded() {
		if _, ok := targets[k[0]]; !ok || len(k) < 2 {
			continue // unknown section, already reported
		}
		if underFailed(k, failed) {
			continue // not reached because of the error there, not unknown
		}
		add(at(k.String()), "unknown key %q", k.String())
	}
	// An address given without a socket replaces the default socket.
	if md.IsDefined("virus", "clamd", "address") && !md.IsDefined("virus", "clamd", "socket") {
		c.Virus.Clamd.Socket = ""
	}
	if md.IsDefined("spam", "spamd", "socket") && !md.IsDefined("spam", "spamd", "address") {
		c.Spam.Spamd.Address = ""
	}
	c.resolvePaths(filepath.Dir(name))
	defaults := Defaults()
	for key, st := range c.Settings() {
		if strings.HasPrefix(key, "content.") && !strings.HasPrefix(key, "content.html.") && !strings.HasSuffix(strings.TrimSpace(st.Raw), ".rules") {
			// Rule files themselves (filename.rules.conf) are not rulesets.
			st.Plain = st.Raw
			continue
		}
		if err := st.resolve(filepath.Dir(name)); err != nil {
			add(key, "%s: %v", key, err)
		}
		if st.Rules != nil && st.Plain == "" {
			// A ruleset without a default rule falls back to the built-in value.
			st.Plain = defaults.Settings()[key].Plain
		}
	}
	for _, e := range c.validate() {
		add(e.key, "%s", e.msg)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	if len(errs) > 0 {
		return &c, errs
	}
	return &c, nil
}

func (c *Config) sections() map[string]any {
	return map[string]any{
		"queue":      &c.Queue,
		"batch":      &c.Batch,
		"quarantine": &c.Quarantine,
		"log":        &c.Log,
		"headers":    &c.Headers,
		"store":      &c.Store,
		"virus":      &c.Virus,
		"limits":     &c.Limits,
		"archives":   &c.Archives,
		"content":    &c.Content,
		"metrics":    &c.Metrics,
		"notify":     &c.Notify,
		"spam":       &c.Spam,
		"check":      &c.Check,
		"phishing":   &c.Phishing,
		"signature":  &c.Signature,
		"smtp":       &c.SMTP,
		"web":        &c.Web,
	}
}

// decodeMsg splits a decoding error into the key it concerns and its text.
func decodeMsg(err error) (key, msg string) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.LastKey, pe.Message
	}
	s := err.Error()
	if i := strings.Index(s, "(last key \""); i >= 0 {
		rest := s[i+len("(last key \""):]
		if j := strings.Index(rest, "\"): "); j >= 0 {
			return rest[:j], rest[j+4:]
		}
	}
	return "", strings.TrimPrefix(s, "toml: ")
}

// resolvePaths makes relative paths absolute against dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Queue.Incoming {
		abs(&c.Queue.Incoming[i])
	}
	for _, p := range []*string{&c.Queue.Outgoing, &c.Queue.WorkDir, &c.Queue.PidFile, &c.Quarantine.Dir, &c.Store.Path, &c.Notify.Reports, &c.Spam.Spamd.Socket, &c.Check.OffFile, &c.Check.RestartLog,
		&c.Virus.Clamd.Socket, &c.Virus.Builtin.Signatures, &c.SMTP.Spool, &c.Web.TLSCert, &c.Web.TLSKey} {
		abs(p)
	}
	for _, l := range [][]string{c.Phishing.SafeSites, c.Phishing.BadSites} {
		for i := range l {
			abs(&l[i])
		}
	}
}
