package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
)

// Virus configures virus scanning ([virus] and its engine tables).
type Virus struct {
	// Scanners run together: a part is infected if any says so.
	Scanners           []string `toml:"scanners"`
	Scan               Setting  `toml:"scan"` // yes/no or a ruleset: scan this message?
	DeliverUnscannable bool     `toml:"deliver_unscannable"`
	DeliverCleaned     Setting  `toml:"deliver_cleaned"`
	Heuristics         string   `toml:"heuristics"`
	SilentViruses      []string `toml:"silent_viruses"`
	// NonForgingViruses match virus names that never count as silent
	// (MailScanner's "Non-Forging Viruses"); DeliverSilent delivers a
	// silent virus's message cleaned instead of dropping it ("Still
	// Deliver Silent Viruses"), yes/no or a ruleset.
	NonForgingViruses []string `toml:"non_forging_viruses"`
	DeliverSilent     Setting  `toml:"deliver_silent"`
	// SpamVirusNames are MailScanner "Virus Names Which Are Spam": whole
	// virus names with * wildcards, case-sensitive. A match is no virus:
	// the message is spam.
	SpamVirusNames []string `toml:"spam_virus_names"`
	LocalDomains   []string `toml:"local_domains"`
	Concurrency    int      `toml:"concurrency"`
	ScanTextBodies bool     `toml:"scan_text_bodies"`

	Clamd   Clamd        `toml:"clamd"`
	Builtin Builtin      `toml:"builtin"`
	Command VirusCommand `toml:"command"`
}

// Clamd is [virus.clamd].
type Clamd struct {
	Socket         string   `toml:"socket"`
	Address        string   `toml:"address"`
	Timeout        Duration `toml:"timeout"`
	MaxConnections int      `toml:"max_connections"`
	MaxStream      Size     `toml:"max_stream"`
	Sessions       bool     `toml:"sessions"`
	// Servers: several clamd (unix socket paths or host:port), pooled;
	// when set, socket and address are not used.
	Servers []string `toml:"servers"`
}

// Builtin is [virus.builtin].
type Builtin struct {
	Signatures string `toml:"signatures"`
}

// VirusCommand is [virus.command].
type VirusCommand struct {
	Preset  string   `toml:"preset"`
	Path    string   `toml:"path"`
	Args    []string `toml:"args"`
	Timeout Duration `toml:"timeout"`
}

func defaultVirus() Virus {
	return Virus{
		Scanners:       []string{"clamd"},
		Scan:           plain("yes"),
		DeliverCleaned: plain("yes"),
		DeliverSilent:  plain("no"),
		Heuristics:     "infected",
		// Mass-mailers and spam-viruses forge their senders: no notices.
		SilentViruses: []string{`(?i)^(W32/)?(Klez|Bugbear|Sobig|Mimail|Netsky|Mydoom|Bagle|Sober|Zafi)`, `(?i)^Email\.(Phishing|Spam)`},
		Clamd:         Clamd{Socket: "/run/clamav/clamd.ctl", Timeout: Duration(60e9), MaxStream: 25 << 20, Sessions: true},
		Builtin:       Builtin{Signatures: "/var/lib/qscan/signatures"},
		Command:       VirusCommand{Timeout: Duration(300e9)},
	}
}

func (v *Virus) validate(bad func(key, format string, a ...any)) {
	seen := map[string]bool{}
	for _, s := range v.Scanners {
		switch s {
		case "clamd", "builtin", "command":
		default:
			bad("virus.scanners", "virus.scanners: unknown scanner %q (use clamd, command, builtin)", s)
		}
		if seen[s] {
			bad("virus.scanners", "virus.scanners: %q listed twice", s)
		}
		seen[s] = true
	}
	switch v.Heuristics {
	case "infected", "report", "ignore":
	default:
		bad("virus.heuristics", "virus.heuristics: %q: use infected, report or ignore", v.Heuristics)
	}
	for _, re := range v.SilentViruses {
		if _, err := regexp.Compile(re); err != nil {
			bad("virus.silent_viruses", "virus.silent_viruses: %q: %v", re, err)
		}
	}
	for _, re := range v.NonForgingViruses {
		if _, err := regexp.Compile(re); err != nil {
			bad("virus.non_forging_viruses", "virus.non_forging_viruses: %q: %v", re, err)
		}
	}
	if seen["clamd"] {
		if v.Clamd.Socket != "" && v.Clamd.Address != "" {
			bad("virus.clamd", "virus.clamd: set socket or address, not both")
		}
		for _, s := range v.Clamd.Servers {
			if err := checkServer(s); err != nil {
				bad("virus.clamd.servers", "virus.clamd.servers: %q: %v", s, err)
			}
		}
		if v.Clamd.Timeout.D() < 1e9 {
			bad("virus.clamd.timeout", "virus.clamd.timeout: too short (at least 1s)")
		}
	}
	if seen["command"] && v.Command.Preset == "" && v.Command.Path == "" {
		bad("virus.command", "virus.command: set preset (clamscan, clamdscan) or path")
	}
	if p := v.Command.Preset; p != "" && p != "clamscan" && p != "clamdscan" {
		bad("virus.command.preset", "virus.command.preset: %q: use clamscan, clamdscan or \"\"", p)
	}
	if seen["builtin"] && v.Builtin.Signatures != "" {
		if err := usableReadDir(v.Builtin.Signatures); err != nil {
			bad("virus.builtin.signatures", "virus.builtin.signatures: %v", err)
		}
	}
}

// usableReadDir accepts a directory this user can read.
func usableReadDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if err := syscall.Access(dir, 0o5); err != nil { // R_OK|X_OK
		return fmt.Errorf("%s: not readable by this user: %w", dir, err)
	}
	return nil
}

// checkServer checks an engine server address of a servers list: a unix
// socket path (absolute) or host:port.
func checkServer(s string) error {
	if strings.HasPrefix(s, "/") {
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want a unix socket path or host:port")
	}
	if host == "" || port == "" {
		return fmt.Errorf("want host:port")
	}
	return nil
}
