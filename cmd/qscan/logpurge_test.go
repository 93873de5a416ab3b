package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/store"
)

// TestPurgeLog: the daemon's purge deletes the rows older than the
// retention and keeps the others; a retention of 0 keeps everything.
func TestPurgeLog(t *testing.T) {
	for _, retention := range []time.Duration{0, 90 * 24 * time.Hour} {
		st, err := store.Open(filepath.Join(t.TempDir(), "q.db"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		err = st.AppendLog(context.Background(), []store.LogRecord{
			{Time: now.Add(-100 * 24 * time.Hour), QueueID: "OLD", Verdict: "clean"},
			{Time: now.Add(-80 * 24 * time.Hour), QueueID: "KEEP", Verdict: "clean"},
		})
		if err != nil {
			t.Fatal(err)
		}
		log := logrus.New()
		log.SetOutput(io.Discard)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { purgeLog(ctx, st, retention, 0, log); close(done) }()
		want := 1
		if retention == 0 {
			want = 2
			<-done // returns at once: nothing to do
		}
		var rs []store.LogRecord
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if rs, err = st.SearchLog(context.Background(), store.LogQuery{}); err != nil || len(rs) == want {
				break
			}
		}
		cancel()
		<-done
		if len(rs) != want || rs[0].QueueID != "KEEP" {
			t.Errorf("retention %v: rows after the purge %+v, want %d with KEEP first", retention, rs, want)
		}
		st.Close()
	}
}
