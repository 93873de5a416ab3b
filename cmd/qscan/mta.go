package main

import (
	"context"
	"fmt"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/pkg/sendmail"
)

// postconfTimeout bounds the run of postconf that reads Postfix's queue
// settings.
const postconfTimeout = 30 * time.Second

// queueMTA builds the MTA of [queue] mta: the format the pipeline reads
// and writes its queues in (pipeline.MTA, the queue seam).
func queueMTA(c *config.Config, now func() time.Time) (pipeline.MTA, error) {
	switch c.Queue.MTA {
	case "", "sendmail":
		return pipeline.NewSendmail(sendmail.Limits{}, now), nil
	case "exim":
		return pipeline.NewExim(exim.Limits{}, c.Queue.SplitSpool, now), nil
	case "postfix":
		ctx, cancel := context.WithTimeout(context.Background(), postconfTimeout)
		defer cancel()
		q, err := postfix.ReadQueue(ctx, c.Queue.Postconf, c.Queue.PostfixConfig, nil)
		if err != nil {
			return nil, fmt.Errorf("queue.mta postfix: cannot read Postfix's queue settings: %w", err)
		}
		return pipeline.NewPostfix(postfix.Limits{}, q, now), nil
	}
	return nil, fmt.Errorf("queue.mta: %q: use sendmail, postfix or exim", c.Queue.MTA)
}

// queueKicker is the kick of the outgoing MTA ([queue] kick).
func queueKicker(q config.Queue) pipeline.Kicker {
	switch q.MTA {
	case "exim":
		return pipeline.EximKicker{Kicker: exim.Kicker{Exim: q.Exim, Args: q.EximArgs}}
	case "postfix":
		return pipeline.PostfixKicker{Kicker: postfix.Kicker{Postkick: q.Postkick, ConfigDir: q.PostfixConfig}}
	}
	return pipeline.SendmailKicker{Kicker: *kicker(q)}
}

// releasePublish is the quarantine's way into the outgoing queue of an
// MTA other than sendmail (quarantine.ReleaseOptions.Publish); nil for
// sendmail, which the quarantine writes itself.
func releasePublish(c *config.Config) (func(ctl, body []byte, to []string, header, value string) (string, []string, error), error) {
	if c.Queue.MTA == "" || c.Queue.MTA == "sendmail" {
		return nil, nil
	}
	m, err := queueMTA(c, time.Now)
	if err != nil {
		return nil, err
	}
	return pipeline.Releaser{MTA: m, Dir: c.Queue.Outgoing}.Release, nil
}

// queueStats counts the messages of the incoming queues and the wait of
// the oldest (for the metrics).
func queueStats(m pipeline.MTA, dirs []string, now time.Time) (int, time.Duration) {
	n := 0
	var first time.Time
	for _, d := range dirs {
		es, _ := m.List(d)
		for _, e := range es {
			n++
			if first.IsZero() || e.ModTime.Before(first) {
				first = e.ModTime
			}
		}
	}
	if first.IsZero() {
		return n, 0
	}
	return n, now.Sub(first)
}
