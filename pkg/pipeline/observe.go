package pipeline

import (
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// Observer is told what the pipeline does, for metrics (see pkg/metrics).
type Observer interface {
	BatchStart(messages int)
	Message(verdict, action string, size int64, stageMS map[string]int64)
	Batch(messages int, total, claim, attempts, commit time.Duration)
	Virus(name string)
	SpamScore(score float64)
	Held(n int)
	Quarantined(kind string)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) BatchStart(int)                                                        {}
func (NopObserver) Message(string, string, int64, map[string]int64)                       {}
func (NopObserver) Batch(int, time.Duration, time.Duration, time.Duration, time.Duration) {}
func (NopObserver) Virus(string)                                                          {}
func (NopObserver) SpamScore(float64)                                                     {}
func (NopObserver) Held(int)                                                              {}
func (NopObserver) Quarantined(string)                                                    {}

// observeMessage reports a finished message.
func (p *Pipeline) observeMessage(it *item, action message.Outcome) {
	p.obs.Message(string(it.verdict), string(action), it.entry.Size, it.stageMS)
	if it.msg == nil {
		return
	}
	for _, r := range it.msg.Reports {
		if r.Kind == message.KindVirus {
			p.obs.Virus(r.Name)
		}
	}
	if it.msg.Spam != nil && it.msg.Spam.Unchecked == "" {
		p.obs.SpamScore(it.msg.Spam.Score)
	}
}
