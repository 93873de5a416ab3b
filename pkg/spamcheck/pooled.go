package spamcheck

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/qscan/qscan/pkg/pool"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// PooledSpamd is spamd on several servers (see pkg/pool): each check goes
// to the least busy one that is up, and a check that fails on one is sent
// to the next, so the stage sees a failure only when all have failed.
type PooledSpamd struct{ *pool.Pool[SpamdClient] }

// PooledRspamd is rspamd on several servers, as PooledSpamd.
type PooledRspamd struct{ *pool.Pool[RspamdClient] }

var (
	_ SpamdClient  = PooledSpamd{}
	_ RspamdClient = PooledRspamd{}
)

// Report asks one spamd after the other until one answers.
func (p PooledSpamd) Report(ctx context.Context, msg io.Reader) (*spamd.Result, error) {
	rs, start, err := rewindable(msg)
	if err != nil {
		return nil, err
	}
	var res *spamd.Result
	err = p.Do(ctx, func(c SpamdClient) error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		var err error
		res, err = c.Report(ctx, rs)
		return err
	})
	return res, err
}

// Check asks one rspamd after the other until one answers.
func (p PooledRspamd) Check(ctx context.Context, req rspamd.Request, msg io.Reader) (*rspamd.Result, error) {
	rs, start, err := rewindable(msg)
	if err != nil {
		return nil, err
	}
	var res *rspamd.Result
	err = p.Do(ctx, func(c RspamdClient) error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		var err error
		res, err = c.Check(ctx, req, rs)
		return err
	})
	return res, err
}

// rewindable returns r as a reader that can be read again from start (in
// memory when r cannot seek).
func rewindable(r io.Reader) (io.ReadSeeker, int64, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, 0, fmt.Errorf("read the message: %w", err)
		}
		rs = bytes.NewReader(b)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	return rs, start, err
}
