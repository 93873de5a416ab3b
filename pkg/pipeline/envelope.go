package pipeline

import (
	"errors"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/sendmail"
)

// qfEditor is what addHeaders needs of a queue file.
type qfEditor interface {
	DeleteHeader(name string) int
	AddHeader(name, value string) error
	AddHeaderTop(name, value string) error
}

var _ qfEditor = (*sendmail.Qf)(nil)

func envelopeOf(qf *sendmail.Qf) message.Envelope {
	env := message.Envelope{
		Sender:     qf.Sender(),
		ClientIP:   qf.ClientIP(),
		ClientHost: qf.ClientHost(),
		Helo:       qf.Helo(),
		Protocol:   qf.Protocol(),
		Auth:       qf.Authenticated(),
	}
	for _, r := range qf.Recipients() {
		env.Recipients = append(env.Recipients, r.Addr)
	}
	return env
}

// panicError marks a check that panicked: unlike an engine failure it is
// the message's fault and counts as an attempt.
type panicError struct{ v any }

func (e panicError) Error() string { return "pipeline: panic while checking message" }

func isPanic(err error) bool {
	var pe panicError
	return errors.As(err, &pe)
}
