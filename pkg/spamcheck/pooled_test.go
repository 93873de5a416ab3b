package spamcheck

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/pool"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

type deadSpamd struct{}

func (deadSpamd) Report(_ context.Context, r io.Reader) (*spamd.Result, error) {
	io.CopyN(io.Discard, r, 5)
	return nil, errors.New("connection refused")
}

type liveSpamd struct{ got string }

func (l *liveSpamd) Report(_ context.Context, r io.Reader) (*spamd.Result, error) {
	b, _ := io.ReadAll(r)
	l.got = string(b)
	return &spamd.Result{Score: 5}, nil
}

type deadRspamd struct{}

func (deadRspamd) Check(context.Context, rspamd.Request, io.Reader) (*rspamd.Result, error) {
	return nil, errors.New("503")
}

type liveRspamd struct{ got string }

func (l *liveRspamd) Check(_ context.Context, _ rspamd.Request, r io.Reader) (*rspamd.Result, error) {
	b, _ := io.ReadAll(r)
	l.got = string(b)
	return &rspamd.Result{Score: 1}, nil
}

// TestPooledSpamEngines: a check that fails on one server goes to the next
// with the whole message again; only all servers failing fails the check.
func TestPooledSpamEngines(t *testing.T) {
	msg := "Subject: x\n\nbody\n"
	live := &liveSpamd{}
	ps := PooledSpamd{pool.New([]pool.Member[SpamdClient]{{Name: "a", Server: deadSpamd{}}, {Name: "b", Server: live}}, pool.Options[SpamdClient]{})}
	defer ps.Close()
	if res, err := ps.Report(context.Background(), strings.NewReader(msg)); err != nil || res.Score != 5 || live.got != msg {
		t.Errorf("spamd pool = %+v, %v, live got %q", res, err, live.got)
	}
	lr := &liveRspamd{}
	pr := PooledRspamd{pool.New([]pool.Member[RspamdClient]{{Name: "a", Server: deadRspamd{}}, {Name: "b", Server: lr}}, pool.Options[RspamdClient]{})}
	defer pr.Close()
	if res, err := pr.Check(context.Background(), rspamd.Request{}, io.MultiReader(strings.NewReader(msg))); err != nil || res.Score != 1 || lr.got != msg {
		t.Errorf("rspamd pool = %+v, %v, live got %q", res, err, lr.got)
	}
	all := PooledSpamd{pool.New([]pool.Member[SpamdClient]{{Name: "a", Server: deadSpamd{}}, {Name: "b", Server: deadSpamd{}}}, pool.Options[SpamdClient]{})}
	defer all.Close()
	if _, err := all.Report(context.Background(), strings.NewReader(msg)); err == nil {
		t.Error("spamd pool with all down: no error")
	}
}
