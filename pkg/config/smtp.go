package config

import (
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/smtpfilter"
)

// SMTP configures the SMTP content filter ([smtp]): qscan accepts mail
// from the MTA on Listen into its Spool and hands it back on Reinject.
// Off (no Listen) by default.
type SMTP struct {
	Listen              StringList `toml:"listen"`
	LMTP                bool       `toml:"lmtp"`
	Clients             []string   `toml:"clients"`
	Spool               string     `toml:"spool"`
	MaxMessageSize      Size       `toml:"max_message_size"`
	MaxConnections      int        `toml:"max_connections"`
	MaxRecipients       int        `toml:"max_recipients"`
	CommandTimeout      Duration   `toml:"command_timeout"`
	DataTimeout         Duration   `toml:"data_timeout"`
	MaxSpoolBytes       Size       `toml:"max_spool_bytes"`
	MinFreeSpace        Size       `toml:"min_free_space"`
	Reinject            string     `toml:"reinject"`
	ReinjectConnections int        `toml:"reinject_connections"`
	OnReject            string     `toml:"on_reject"`
}

func defaultSMTP() SMTP {
	return SMTP{
		Listen:              StringList{},
		Clients:             []string{"127.0.0.0/8", "::1"},
		Spool:               "/var/spool/qscan/spool",
		MaxMessageSize:      50 << 20,
		MaxConnections:      20,
		MaxRecipients:       1000,
		CommandTimeout:      Duration(300e9),
		DataTimeout:         Duration(600e9),
		MaxSpoolBytes:       2 << 30,
		MinFreeSpace:        500 << 20,
		Reinject:            "127.0.0.1:10025",
		ReinjectConnections: 4,
		OnReject:            "bounce",
	}
}

// On reports whether the filter is configured (at least one listen
// address).
func (s SMTP) On() bool { return len(s.Listen) > 0 }

func (s SMTP) validate(bad func(key, format string, a ...any)) {
	for _, l := range s.Listen {
		if _, err := smtpfilter.ParseListen(l); err != nil {
			bad("smtp.listen", "smtp.listen: %v", err)
		}
	}
	if _, err := smtpfilter.ParseClients(s.Clients); err != nil {
		bad("smtp.clients", "smtp.clients: %v", err)
	}
	if _, _, err := reinject.ParseAddr(s.Reinject); err != nil && s.On() {
		bad("smtp.reinject", "smtp.reinject: %v", err)
	}
	if s.On() {
		if err := creatableDir(s.Spool); err != nil {
			bad("smtp.spool", "smtp.spool: %v", err)
		}
	}
	if s.OnReject != "bounce" && s.OnReject != "hold" {
		bad("smtp.on_reject", "smtp.on_reject: %q: use bounce (a DSN to the sender) or hold", s.OnReject)
	}
	for key, v := range map[string]int{"smtp.max_connections": s.MaxConnections, "smtp.max_recipients": s.MaxRecipients,
		"smtp.reinject_connections": s.ReinjectConnections} {
		if v < 1 {
			bad(key, "%s: %d: must be at least 1", key, v)
		}
	}
	if s.MaxMessageSize < 1024 {
		bad("smtp.max_message_size", "smtp.max_message_size: at least 1KB")
	}
	if s.CommandTimeout.D() < 1e9 {
		bad("smtp.command_timeout", "smtp.command_timeout: too short (at least 1s)")
	}
	if s.DataTimeout.D() < 1e9 {
		bad("smtp.data_timeout", "smtp.data_timeout: too short (at least 1s)")
	}
}
