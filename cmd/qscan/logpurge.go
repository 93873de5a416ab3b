package main

import (
	"context"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
)

// logHost names this scanner in the message log: [store] host, or else
// the host name.
func logHost(c *config.Config) string {
	if c.Store.Host != "" {
		return c.Store.Host
	}
	h, _ := os.Hostname()
	return h
}

// logPurgeEvery is how often the daemon purges the message log.
const logPurgeEvery = 24 * time.Hour

// logPurgeFirst is how long after the start (or a reload) the daemon
// first purges the message log: not in the way of the first batches.
const logPurgeFirst = time.Minute

// purgeLog deletes the message-log rows older than retention (0: none)
// first after first and then every logPurgeEvery, until ctx ends.
func purgeLog(ctx context.Context, st interface {
	PurgeLog(context.Context, time.Time) (int64, error)
}, retention, first time.Duration, log logrus.FieldLogger) {
	if retention <= 0 || st == nil {
		return
	}
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := st.PurgeLog(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.WithError(err).Error("cannot purge the message log")
		case n > 0:
			log.Infof("message log: %d rows older than %s purged", n, retention)
		}
		t.Reset(logPurgeEvery)
	}
}
