package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/qscan/qscan/pkg/message"
)

// errTimeout marks a message whose checks ran past MessageTimeout.
var errTimeout = errors.New("pipeline: message check timed out")

// panicError marks a check that panicked: unlike an engine failure it is
// the message's fault and counts as an attempt.
type panicError struct{ v any }

func (e panicError) Error() string { return "pipeline: panic while checking message" }

func isPanic(err error) bool {
	var pe panicError
	return errors.As(err, &pe)
}

// processAll checks the items in parallel on the pipeline's workers
// (Workers at a time, shared by the batches in progress) and calls tail,
// once, as soon as no more than Workers items are left waiting for a
// worker: time enough for the next batch to be claimed before the workers
// run out of this one's messages.
func (p *Pipeline) processAll(ctx context.Context, items []*item, tail func()) {
	var once sync.Once
	left := 0 // items still to be given a worker
	for _, it := range items {
		if it.whole == "" {
			left++
		}
	}
	var wg sync.WaitGroup
	for _, it := range items {
		if it.whole != "" {
			continue
		}
		if left <= cap(p.workers) {
			once.Do(tail)
		}
		wg.Add(1)
		p.workers <- struct{}{}
		left--
		go func(it *item) {
			defer func() { <-p.workers; wg.Done() }()
			p.processOne(ctx, it)
		}(it)
	}
	once.Do(tail)
	wg.Wait()
}

// processOne runs the checks of one message under its time limit. A panic
// or a timeout affects this message only: it is held and retried, and
// after max_attempts quarantined whole.
func (p *Pipeline) processOne(ctx context.Context, it *item) {
	ctx, cancel := context.WithTimeout(ctx, p.opt.MessageTimeout)
	defer cancel()
	// The checks write into a result of their own: after a timeout their
	// goroutine may still run, and must not touch the item.
	type result struct {
		msg     *message.Message
		stageMS map[string]int64
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				p.log.WithField("id", it.entry.ID).Errorf("panic while checking message: %v\n%s", r, debug.Stack())
				done <- result{err: panicError{r}}
			}
		}()
		m, ms, err := p.check(ctx, it)
		done <- result{m, ms, err}
	}()
	select {
	case r := <-done:
		it.msg, it.stageMS, it.err = r.msg, r.stageMS, r.err
	case <-ctx.Done():
		// A stage that ignores its context keeps its goroutine; the message
		// is held all the same.
		it.err = errTimeout
	}
	if it.err == nil {
		it.err = p.decide(it)
	}
}

// check builds the Message and runs every stage in order. It reads the
// item and writes nothing into it.
func (p *Pipeline) check(ctx context.Context, it *item) (*message.Message, map[string]int64, error) {
	if ownSpooled(it) {
		// A report qscan wrote and spooled itself: not checked again.
		return &message.Message{ID: it.entry.ID, Envelope: it.qf.Envelope(), Header: it.qf.HeaderBlock(), Size: it.entry.Size}, nil, nil
	}
	m, err := p.newMessage(it)
	if err != nil {
		return nil, nil, err
	}
	ms, err := p.checker.run(ctx, m)
	return m, ms, err
}

// ownSpooled reports whether it is a message qscan wrote into the filter's
// spool itself (a report, a notice, a DSN: GeneratedListener, which no
// listener address can be).
func ownSpooled(it *item) bool {
	sc, ok := it.qf.(*SpoolControl)
	return ok && sc.Env.Listener == GeneratedListener
}

// newMessage reads the envelope from the control file and, when a stage
// needs it, the body from the locked body file (or the control file).
func (p *Pipeline) newMessage(it *item) (*message.Message, error) {
	qf := it.qf
	m := &message.Message{
		ID:       it.entry.ID,
		Envelope: qf.Envelope(),
		Header:   qf.HeaderBlock(),
		Size:     it.entry.Size,
		Received: it.entry.ModTime,
	}
	if len(p.checker.stages) > 0 {
		if in, ok := qf.(InlineBody); ok {
			m.Body = in.Body()
			return m, nil
		}
		f, off := it.lock.Body()
		if err := readBody(m, f, off); err != nil {
			return nil, fmt.Errorf("read the body of %s: %w", it.entry.ID, err)
		}
	}
	return m, nil
}

// readBody reads the df right after the header block and its empty line,
// in one array, so that Message.Raw needs no copy of a large message.
func readBody(m *message.Message, df *os.File, off int64) error {
	st, err := df.Stat()
	if err != nil {
		return err
	}
	if _, err := df.Seek(off, io.SeekStart); err != nil {
		return err
	}
	h := len(m.Header)
	// Room for the final read that meets EOF too: without it the buffer
	// would double to find out that the file has ended.
	buf := make([]byte, h+1, h+1+int(max(st.Size()-off, 0))+bytes.MinRead)
	copy(buf, m.Header)
	buf[h] = '\n'
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(df); err != nil {
		return err
	}
	all := b.Bytes()
	m.Header, m.Body = all[:h], all[h+1:]
	return nil
}

// decide turns the reports into what is written out: the qf with its
// header edits, and the body when it was rebuilt (else the df is linked).
func (p *Pipeline) decide(it *item) error {
	if ownSpooled(it) {
		// A report qscan spooled itself goes out as it was written.
		it.verdict, it.decision = message.VerdictReport, message.Decision{Verdict: message.VerdictReport}
		it.outQf = it.qf
		return nil
	}
	o := p.checker.decide(it.msg)
	it.verdict, it.decision = o.d.Verdict, o.d
	if o.whole != "" {
		it.whole = o.whole
		return nil
	}
	if err := p.checker.carryOut(it.qf, o); err != nil {
		return fmt.Errorf("%w: %w", errOwnFault, err)
	}
	it.outBody = o.body
	it.outQf = it.qf
	return nil
}
