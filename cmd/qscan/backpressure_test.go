package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/spamcheck"
	"github.com/qscan/qscan/pkg/spool"
)

// switchSpamd fails while down is set.
type switchSpamd struct{ down atomic.Bool }

func (s *switchSpamd) Report(_ context.Context, r io.Reader) (*spamd.Result, error) {
	io.Copy(io.Discard, r)
	if s.down.Load() {
		return nil, errors.New("spamd REPORT 127.0.0.1:783: connection refused")
	}
	return &spamd.Result{Score: 1, Required: 5}, nil
}

// TestAcceptingSpamEngine: with [spam] hold_on_failure, a spamd that
// fails makes the filter refuse new mail ("engine spamd down", the 451),
// since every message would be held; a probe that spamd answers lets
// mail in again.
func TestAcceptingSpamEngine(t *testing.T) {
	sd := &switchSpamd{}
	opts := spamcheck.Options{HoldOnFailure: true, Spam: spam.DefaultOptions()}
	opts.Spam.Engines = []string{spam.EngineSpamd}
	log := logrus.New()
	log.SetOutput(io.Discard)
	st, err := spamcheck.New(opts, spamcheck.Engines{Spamd: sd}, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{}
	e.spam.Store(st)
	pr := &spool.Pressure{Spool: spool.Spool{Dir: t.TempDir()}, Clock: time.Now}
	if err := accepting(e, pr); err != nil {
		t.Fatalf("accepting = %v with spamd up", err)
	}
	sd.down.Store(true)
	m := &message.Message{ID: "m1", Header: []byte("Subject: x\n"), Body: []byte("x\n")}
	if err := st.Check(context.Background(), m); !errors.Is(err, spamcheck.ErrUnavailable) {
		t.Fatalf("Check = %v, want the message held", err)
	}
	if err := accepting(e, pr); err == nil || !strings.Contains(err.Error(), "engine spamd down") {
		t.Fatalf("accepting = %v with spamd down, want engine spamd down", err)
	}
	st.Probe(context.Background())
	if err := accepting(e, pr); err == nil {
		t.Fatal("accepting after a failed probe")
	}
	sd.down.Store(false)
	st.Probe(context.Background())
	if err := accepting(e, pr); err != nil {
		t.Errorf("accepting = %v after spamd answered the probe", err)
	}
}
