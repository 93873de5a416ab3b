package virus

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
)

// Scanner is what Multi needs from an engine. clamd.Client, builtin.Engine and
// command.Engine implement it, and so does Multi itself.
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (Result, error)
}

// Multi runs several engines over the same content at once.
//
// Content is infected if any engine says so, and the result lists the
// findings of all of them. If any engine fails, Scan returns an error even
// when another engine already found a virus: "nothing goes out unscanned"
// means every configured engine must have looked (a virus found by one engine
// does not tell what the failed engine would have found, and the caller's
// policy may differ per name). The partial result is returned with the error
// for logging only.
type Multi struct {
	engines []Scanner
}

var _ Scanner = (*Multi)(nil)

// NewMulti returns a Multi over engines.
func NewMulti(engines ...Scanner) *Multi {
	return &Multi{engines: engines}
}

// Scan reads r once and feeds every engine concurrently through its own pipe,
// so the content is never buffered whole. An engine that stops reading early
// (for example clamd refusing an oversized stream) is dropped from the feed
// without blocking the others.
func (m *Multi) Scan(ctx context.Context, r io.Reader) (Result, error) {
	if len(m.engines) == 1 {
		return m.engines[0].Scan(ctx, r)
	}
	results := make([]Result, len(m.engines))
	errs := make([]error, len(m.engines))
	writers := make([]*io.PipeWriter, len(m.engines))
	var wg sync.WaitGroup
	for i, e := range m.engines {
		pr, pw := io.Pipe()
		writers[i] = pw
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.Scan(ctx, pr)
			// Unblock the feeder if the engine returned without reading all.
			pr.CloseWithError(errEngineDone)
		}()
	}
	feedErr := feed(r, writers)
	wg.Wait()

	var out Result
	var names []string
	for _, res := range results {
		if res.Engine != "" {
			names = append(names, res.Engine)
		}
		out.Findings = append(out.Findings, res.Findings...)
		out.LimitExceeded = out.LimitExceeded || res.LimitExceeded
	}
	out.Engine = strings.Join(names, "+")
	if feedErr != nil {
		errs = append(errs, Errorf("multi", "read content: %w", feedErr))
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	return out, nil
}

// errEngineDone is what a feed write sees once its engine has returned.
var errEngineDone = errors.New("virus: engine stopped reading")

// feed copies r to every live writer, then closes them: with nil at the end
// of r, with the read error otherwise (so engines fail instead of scanning a
// truncated stream as if it were whole). It returns the read error.
func feed(r io.Reader, ws []*io.PipeWriter) error {
	live := append([]*io.PipeWriter(nil), ws...)
	buf := make([]byte, 64<<10)
	var readErr error
	for len(live) > 0 {
		n, err := r.Read(buf)
		if n > 0 {
			kept := live[:0]
			for _, w := range live {
				if _, werr := w.Write(buf[:n]); werr == nil {
					kept = append(kept, w)
				}
			}
			live = kept
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, w := range ws {
		w.CloseWithError(readErr)
	}
	return readErr
}
