package main

import (
	"context"
	"strings"

	"github.com/qscan/qscan/pkg/archive"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/ruleset"
)

// removeHeaders maps [headers] remove to the fields each message loses:
// names separated by blanks or commas, a trailing colon allowed
// ("X-Mozilla-Status:" as MailScanner writes them); nil when none.
func removeHeaders(s ruleset.Setting) func(*message.Message) []string {
	if s.Rules == nil && strings.TrimSpace(s.Plain) == "" {
		return nil
	}
	return func(m *message.Message) []string {
		return headerNames(s.Resolve(ruleset.MsgOf(m)))
	}
}

// headerNames reads a list of field names; words that are no field name
// are left out.
func headerNames(v string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		w = strings.TrimSuffix(w, ":")
		if w != "" && validFieldName(w) {
			out = append(out, w)
		}
	}
	return out
}

func validFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' {
			return false
		}
	}
	return true
}

// archiveStage is the stage that writes [quarantine] archive_mail's
// directory copies; nil when the setting names none.
func archiveStage(s ruleset.Setting) pipeline.Stage {
	if s.Rules == nil {
		if dirs, _, _ := archive.Split(s.Plain); len(dirs) == 0 {
			return nil
		}
	}
	return &archive.Stage{Dirs: func(m *message.Message) []string {
		dirs, _, _ := archive.Split(s.Resolve(ruleset.MsgOf(m)))
		return dirs
	}}
}

// archiveAddrs gives the archive addresses of a message; nil when the
// setting names none.
func archiveAddrs(s ruleset.Setting) func(*message.Message) []string {
	if s.Rules == nil {
		if _, addrs, _ := archive.Split(s.Plain); len(addrs) == 0 {
			return nil
		}
	}
	return func(m *message.Message) []string {
		_, addrs, _ := archive.Split(s.Resolve(ruleset.MsgOf(m)))
		return addrs
	}
}

// receivedIPStage sets a message's client address from its n-th
// Received field ([queue] received_ip_header); a message without one
// keeps the queue file's.
type receivedIPStage struct{ n int }

func (receivedIPStage) Name() string { return "received-ip" }

func (s receivedIPStage) Check(_ context.Context, m *message.Message) error {
	if a, ok := message.ReceivedIP(m.Header, s.n); ok {
		m.Envelope.ClientIP = a
	}
	return nil
}
