package virus

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/qscan/qscan/pkg/pool"
)

// Pooled is one engine served by several servers (clamd on two hosts):
// each scan goes to the server with the fewest scans outstanding, and a
// scan that fails on one server is done again on the next, so a scan fails
// only when every server failed it. Servers that failed are taken out and
// probed until they answer (see pkg/pool).
type Pooled struct {
	pool *pool.Pool[Scanner]
}

var _ Scanner = (*Pooled)(nil)

// NewPooled returns a Scanner over servers; probe tells whether one
// answers (clamd: Ping), onChange (may be nil) hears of each server taken
// out or put back.
func NewPooled(servers []pool.Member[Scanner], probe func(context.Context, Scanner) error, onChange func(name string, up bool, err error)) *Pooled {
	return &Pooled{pool: pool.New(servers, pool.Options[Scanner]{Probe: probe, OnChange: onChange})}
}

// Scan scans r on one server after the other until one gives a verdict.
// r is read again from where it was for each try: a reader that cannot
// seek is read into memory first.
func (p *Pooled) Scan(ctx context.Context, r io.Reader) (Result, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return Result{}, fmt.Errorf("read content to scan: %w", err)
		}
		rs = bytes.NewReader(b)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return Result{}, fmt.Errorf("read content to scan: %w", err)
	}
	var res Result
	err = p.pool.Do(ctx, func(s Scanner) error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		var err error
		res, err = s.Scan(ctx, rs)
		return err
	})
	return res, err
}

// OnChange sets the function told of each server taken out or put back.
func (p *Pooled) OnChange(f func(name string, up bool, err error)) { p.pool.SetOnChange(f) }

// Servers returns the state of each server.
func (p *Pooled) Servers() []pool.Status { return p.pool.Status() }

// Close stops the probes.
func (p *Pooled) Close() { p.pool.Close() }
