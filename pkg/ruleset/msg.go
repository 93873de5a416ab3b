package ruleset

import "github.com/qscan/qscan/pkg/message"

// MsgOf is what rulesets match a message on: its envelope, and the names
// of the viruses found in it so far.
func MsgOf(m *message.Message) Msg {
	rm := Msg{From: m.Envelope.Sender, To: m.Envelope.Recipients, ClientIP: m.Envelope.ClientIP}
	for _, r := range m.Reports {
		if r.Kind == message.KindVirus {
			rm.Virus = append(rm.Virus, r.Name)
		}
	}
	return rm
}
