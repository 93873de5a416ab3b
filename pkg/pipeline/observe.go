package pipeline

import (
	"time"

	"github.com/qscan/qscan/pkg/message"
)

// Observer is told what the pipeline does, for metrics (see pkg/metrics).
type Observer interface {
	Message(verdict, action string, size int64, stageMS map[string]int64)
	Batch(messages int, total, claim, attempts, commit time.Duration)
	Virus(name string)
	SpamScore(score float64)
	Held(n int)
	Quarantined(kind string)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Message(string, string, int64, map[string]int64)                       {}
func (nopObserver) Batch(int, time.Duration, time.Duration, time.Duration, time.Duration) {}
func (nopObserver) Virus(string)                                                          {}
func (nopObserver) SpamScore(float64)                                                     {}
func (nopObserver) Held(int)                                                              {}
func (nopObserver) Quarantined(string)                                                    {}

// observeMessage reports a finished message.
func (p *Pipeline) observeMessage(it *item, action string) {
	p.obs.Message(it.verdict, action, it.entry.Size, it.stageMS)
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
