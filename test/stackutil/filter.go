package stackutil

import (
	"fmt"
	"os"
	"testing"
)

// PostfixFilter is the test stack's Postfix with qscan as its SMTP content
// filter (scripts/teststack.d/postfixfilter.sh): smtpd SMTP hands every
// message to qscan at Filter, whose re-injection goes to the smtpd at
// Reinject; relayhost the sink.
type PostfixFilter struct {
	Postfix
	SMTP     string // PFF_SMTP: the smtpd clients send to
	Filter   string // PFF_FILTER: where qscan must listen ([smtp] listen)
	Reinject string // PFF_REINJECT: the 10025-style smtpd ([smtp] reinject)
	Plain    string // PFF_PLAIN: the clients' smtpd without content_filter (Postfix alone)
	Config   string // PFF_CONFIG: its config_directory
	Queue    string // PFF_QUEUE
	Access   string // PFF_ACCESS: the re-injection smtpd's recipient access map
}

// RequirePostfixFilter makes sure the sink and the filter Postfix run and
// returns the stack and its settings.
func RequirePostfixFilter(tb testing.TB, more ...string) (Stack, PostfixFilter) {
	tb.Helper()
	s := Require(tb, append([]string{"sink", "postfixfilter"}, more...)...)
	f, err := PostfixFilterEnv()
	if err != nil {
		tb.Fatal(err)
	}
	return s, f
}

// PostfixFilterEnv reads the filter Postfix's variables of `scripts/teststack env`.
func PostfixFilterEnv() (PostfixFilter, error) {
	var f PostfixFilter
	out, err := run("env")
	if err != nil {
		return f, err
	}
	vars, err := parseEnv(out)
	if err != nil {
		return f, err
	}
	for name, field := range map[string]*string{"PFF_SMTP": &f.SMTP, "PFF_FILTER": &f.Filter, "PFF_REINJECT": &f.Reinject, "PFF_PLAIN": &f.Plain,
		"PFF_CONFIG": &f.Config, "PFF_QUEUE": &f.Queue, "PFF_ACCESS": &f.Access,
		"POSTFIX_ROOT": &f.Root, "POSTFIX_LD_LIBRARY_PATH": &f.LibPath} {
		if *field = vars[name]; *field == "" {
			return f, fmt.Errorf("stackutil postfixfilter env: %s missing", name)
		}
	}
	f.Postfix.Config, f.Postfix.QueueDir, f.Postfix.SMTP = f.Config, f.Queue, f.SMTP
	return f, nil
}

// SetAccess writes the re-injection smtpd's recipient access map
// ("addr 451 4.3.0 text" lines) and reloads Postfix.
func (f PostfixFilter) SetAccess(lines ...string) error {
	text := ""
	for _, l := range lines {
		text += l + "\n"
	}
	if err := os.WriteFile(f.Access, []byte(text), 0o644); err != nil {
		return err
	}
	if out, err := f.Run("postfix", "reload"); err != nil {
		return fmt.Errorf("postfix reload: %v: %s", err, out)
	}
	return nil
}

// EximFilter is the test stack's Exim that routes every message through
// qscan (scripts/teststack.d/eximfilter.sh): SMTP for clients, Filter
// where qscan must listen, Reinject the port whose mail skips the filter.
type EximFilter struct {
	SMTP, Filter, Reinject string
}

// RequireEximFilter makes sure the sink and the filter Exim run.
func RequireEximFilter(tb testing.TB, more ...string) (Stack, EximFilter) {
	tb.Helper()
	s := Require(tb, append([]string{"sink", "eximfilter"}, more...)...)
	out, err := s.run("env")
	if err != nil {
		tb.Fatal(err)
	}
	vars, err := parseEnv(out)
	if err != nil {
		tb.Fatal(err)
	}
	e := EximFilter{SMTP: vars["EXF_SMTP"], Filter: vars["EXF_FILTER"], Reinject: vars["EXF_REINJECT"]}
	if e.SMTP == "" || e.Filter == "" || e.Reinject == "" {
		tb.Fatal("stackutil eximfilter env: EXF_SMTP, EXF_FILTER or EXF_REINJECT missing")
	}
	return s, e
}
