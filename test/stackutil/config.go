package stackutil

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Config is the qscan configuration of a test run: the settings the e2e,
// reliability and bench suites vary. Text writes only what is set; qscan's
// defaults apply to the rest. Suites that must run the shipped
// configuration use ShippedConfig instead.
type Config struct {
	Incoming, Outgoing string
	WorkDir            string // work_dir; pid_file and [store] path are inside it
	Quarantine         string
	RescanInterval     string
	Kick               bool
	Sendmail           string
	SendmailArgs       []string

	MaxMessages, Workers, MaxAttempts  int
	RetryMin, RetryMax, MessageTimeout string

	Virus        []string // [virus] scanners
	NoSignatures bool     // [virus.builtin] signatures = "": EICAR only
	Clamd        Engine
	Spam         *Spam // nil: no [spam] section

	OrgName             string
	LogLevel, LogFormat string
	Notify              *Notify // nil: no [notify] section
	NoMetrics           bool    // [metrics] listen = ""
	Extra               string  // more sections, written as they are
	// The shared store ([store] driver = "postgres"), when StoreDSN is set.
	StoreDSN, StoreHost, PeerKey string
}

// Engine is the client settings of a network engine (clamd, spamd).
type Engine struct {
	Socket         string // clamd's unix socket
	Address        string // host:port; for clamd it replaces the socket
	Timeout        string
	MaxConnections int
}

// Spam is the [spam] section; Engines nil writes `engines = []`.
type Spam struct {
	Engines         []string
	Pause           string
	HighSpamActions []string
	Spamd           Engine
}

// Notify is the [notify] section.
type Notify struct {
	Postmaster      string // "" turns the postmaster's reports off
	NoSenderNotices bool   // no notices to senders of any kind
}

// Write writes the configuration as qscan.toml into dir and returns its
// path.
func (c Config) Write(dir string) (string, error) {
	p := filepath.Join(dir, "qscan.toml")
	if err := os.WriteFile(p, []byte(c.Text()), 0o600); err != nil {
		return "", fmt.Errorf("stackutil write config: %w", err)
	}
	return p, nil
}

// Text returns the configuration as TOML.
func (c Config) Text() string {
	var b strings.Builder
	c.queue(&b)
	section(&b, "batch", "max_messages", c.MaxMessages, "workers", c.Workers, "retry_min", c.RetryMin,
		"retry_max", c.RetryMax, "message_timeout", c.MessageTimeout, "max_attempts", c.MaxAttempts)
	section(&b, "quarantine", "dir", c.Quarantine)
	if c.WorkDir != "" {
		driver := ""
		if c.StoreDSN != "" {
			driver = "postgres"
		}
		section(&b, "store", "path", path.Join(c.WorkDir, "qscan.db"), "driver", driver, "dsn", c.StoreDSN,
			"host", c.StoreHost, "peer_key", c.PeerKey)
	}
	section(&b, "headers", "org_name", c.OrgName)
	section(&b, "log", "level", c.LogLevel, "format", c.LogFormat)
	if c.NoMetrics {
		b.WriteString("[metrics]\nlisten = \"\"\n")
	}
	if n := c.Notify; n != nil {
		fmt.Fprintf(&b, "[notify]\npostmaster = %q\n", n.Postmaster)
		if n.NoSenderNotices {
			b.WriteString("sender_viruses = false\nsender_blocked = false\nsender_other = false\n")
		}
	}
	c.engines(&b)
	b.WriteString(c.Extra)
	return b.String()
}

func (c Config) queue(b *strings.Builder) {
	var pid string
	if c.WorkDir != "" {
		pid = path.Join(c.WorkDir, "qscan.pid")
	}
	section(b, "queue", "incoming", c.Incoming, "outgoing", c.Outgoing, "work_dir", c.WorkDir, "pid_file", pid,
		"rescan_interval", c.RescanInterval, "kick", c.Kick, "sendmail", c.Sendmail, "sendmail_args", c.SendmailArgs)
}

func (c Config) engines(b *strings.Builder) {
	if c.Virus != nil {
		fmt.Fprintf(b, "[virus]\nscanners = %s\n", tomlList(c.Virus))
	}
	if c.NoSignatures {
		b.WriteString("[virus.builtin]\nsignatures = \"\"\n")
	}
	engine(b, "virus.clamd", c.Clamd)
	if s := c.Spam; s != nil {
		fmt.Fprintf(b, "[spam]\nengines = %s\n", tomlList(s.Engines))
		keys(b, "pause", s.Pause, "high_spam_actions", s.HighSpamActions)
		engine(b, "spam.spamd", s.Spamd)
	}
}

// engine writes an engine's section when any of it is set. An address
// replaces clamd's default socket.
func engine(b *strings.Builder, name string, e Engine) {
	if e == (Engine{}) {
		return
	}
	fmt.Fprintf(b, "[%s]\n", name)
	if e.Address != "" && name == "virus.clamd" {
		b.WriteString("socket = \"\"\n")
	}
	keys(b, "socket", e.Socket, "address", e.Address, "timeout", e.Timeout, "max_connections", e.MaxConnections)
}

// section writes a table with the keys that are set, nothing when none is.
func section(b *strings.Builder, name string, kv ...any) {
	var body strings.Builder
	keys(&body, kv...)
	if body.Len() > 0 {
		fmt.Fprintf(b, "[%s]\n%s", name, body.String())
	}
}

// keys writes key = value for every pair whose value is set (not zero).
func keys(b *strings.Builder, kv ...any) {
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			if v != "" {
				fmt.Fprintf(b, "%s = %q\n", kv[i], v)
			}
		case int:
			if v != 0 {
				fmt.Fprintf(b, "%s = %d\n", kv[i], v)
			}
		case bool:
			if v {
				fmt.Fprintf(b, "%s = true\n", kv[i])
			}
		case []string:
			if v != nil {
				fmt.Fprintf(b, "%s = %s\n", kv[i], tomlList(v))
			}
		default:
			panic(fmt.Sprintf("stackutil config: key %v of type %T", kv[i], v))
		}
	}
}

// tomlList writes a TOML array of strings.
func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
