package main

import (
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// rulesMsg is what rulesets match a message on.
func rulesMsg(m *message.Message) ruleset.Msg {
	rm := ruleset.Msg{From: m.Envelope.Sender, To: m.Envelope.Recipients, ClientIP: m.Envelope.ClientIP}
	for _, r := range m.Reports {
		if r.Kind == message.KindVirus {
			rm.Virus = append(rm.Virus, r.Name)
		}
	}
	return rm
}

// yesFor is a yes/no setting for a message: yes when any recipient's rule
// says yes, as MailScanner decides "Virus Scanning" and "Spam Checks".
func yesFor(s config.Setting) func(m *message.Message) bool {
	return func(m *message.Message) bool {
		return s.AnyRecipient(rulesMsg(m), func(v string) bool {
			yes, _ := ruleset.Yes(v)
			return yes
		})
	}
}
