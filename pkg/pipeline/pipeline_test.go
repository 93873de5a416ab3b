package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

var ctx = context.Background()

func TestPassThrough(t *testing.T) {
	e := newEnv(t)
	body := "Hello\n\xff 8-bit bytes stay\n"
	e.enqueue("6AM876nc005638", body, 0)
	inDf, _ := os.Stat(filepath.Join(e.in, "df6AM876nc005638"))
	p := e.pipeline(e.options())
	st, err := p.RunBatch(ctx)
	if err != nil || st.Claimed != 1 || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v; want 1 claimed, 1 delivered", st, err)
	}
	if got := names(t, e.in); len(got) != 0 {
		t.Errorf("incoming left with %v, want empty", got)
	}
	if got, want := names(t, e.out), []string{"df6AM876nc005638", "qf6AM876nc005638"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("outgoing = %v, want %v (no tf or temp files)", got, want)
	}
	outDf, _ := os.Stat(filepath.Join(e.out, "df6AM876nc005638"))
	if !os.SameFile(inDf, outDf) {
		t.Error("outgoing df is not a hard link of the incoming df")
	}
	if got := readFile(t, filepath.Join(e.out, "df6AM876nc005638")); got != body {
		t.Errorf("body changed: %q", got)
	}
	qf := readFile(t, filepath.Join(e.out, "qf6AM876nc005638"))
	for _, want := range []string{"H??X-test-QScan: Found to be clean", "H??X-test-QScan-From: a@example.org", "H??X-test-QScan-ID: 6AM876nc005638", "S<a@example.org>", "RPFD:<b@example.test>"} {
		if !hasLine(qf, want) {
			t.Errorf("outgoing qf lacks line %q:\n%s", want, qf)
		}
	}
	if !strings.HasSuffix(qf, "\n.\n") {
		t.Errorf("outgoing qf does not end with the . line")
	}
	if rows, _ := e.st.Attempts(ctx, 1); len(rows) != 0 {
		t.Errorf("attempts left after delivery: %+v", rows)
	}
}

// TestForgedHeaderRemoved: a message cannot arrive already "clean".
func TestForgedHeaderRemoved(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc005639", "x\n", 0)
	qfPath := filepath.Join(e.in, "qf6AM876nc005639")
	qf := strings.Replace(readFile(t, qfPath), "H??From:", "H??X-test-QScan: Found to be clean\nH??From:", 1)
	os.WriteFile(qfPath, []byte(qf), 0o600)
	p := e.pipeline(e.options(), stageFunc{"virus", func(_ context.Context, m *message.Message) error {
		m.AddReport(message.Report{Kind: message.KindVirus, Part: -1, Text: "Virus 'EICAR' found"})
		return nil
	}})
	if st, _ := p.RunBatch(ctx); st.Quarantined != 1 {
		t.Fatalf("RunBatch = %+v, want the infected message quarantined", st)
	}
	if len(names(t, e.out)) != 0 {
		t.Errorf("outgoing = %v, want nothing delivered", names(t, e.out))
	}
	e.enqueue("6AM876nc005640", "x\n", 0)
	qfPath = filepath.Join(e.in, "qf6AM876nc005640")
	qf = strings.Replace(readFile(t, qfPath), "H??From:", "H??X-test-QScan: Found to be clean\nH??From:", 1)
	os.WriteFile(qfPath, []byte(qf), 0o600)
	p2 := e.pipeline(e.options())
	p2.RunBatch(ctx)
	out := readFile(t, filepath.Join(e.out, "qf6AM876nc005640"))
	if n := strings.Count(out, "X-test-QScan: "); n != 1 {
		t.Errorf("outgoing qf has %d X-test-QScan headers, want exactly ours:\n%s", n, out)
	}
}

func TestBatchLimitsOldestFirst(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"6AM876nc000003", "6AM876nc000001", "6AM876nc000002"} {
		e.enqueue(id, "x\n", time.Duration(10-i)*time.Second) // 000003 is the oldest
	}
	opt := e.options()
	opt.MaxMessages = 2
	p := e.pipeline(opt)
	st, _ := p.RunBatch(ctx)
	if st.Claimed != 2 {
		t.Fatalf("first batch claimed %d, want 2", st.Claimed)
	}
	if got := names(t, e.in); len(got) != 2 || got[0] != "df6AM876nc000002" {
		t.Errorf("after first batch incoming = %v, want the newest (000002) left", got)
	}
	if held, err := p.Drain(ctx); err != nil || held != 0 || len(names(t, e.in)) != 0 {
		t.Errorf("Drain = %d, %v; incoming %v", held, err, names(t, e.in))
	}
}

// TestEngineDownHolds: a failing check never lets mail through; the
// message is retried after the backoff and delivered when the engine is
// back, and the failure does not count as a processing attempt.
func TestEngineDownHolds(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000010", "x\n", 0)
	var down atomic.Bool
	down.Store(true)
	p := e.pipeline(e.options(), stageFunc{"virus", func(context.Context, *message.Message) error {
		if down.Load() {
			return errors.New("clamd: connection refused")
		}
		return nil
	}})
	for i := 0; i < 5; i++ {
		st, _ := p.RunBatch(ctx)
		if i == 0 && st.Held != 1 {
			t.Fatalf("RunBatch with engine down = %+v, want held", st)
		}
		if i > 0 && st.Claimed != 0 {
			t.Fatalf("held message retried before its backoff: %+v", st)
		}
	}
	if len(names(t, e.out)) != 0 {
		t.Fatal("message delivered while the engine was down")
	}
	if rows, _ := e.st.Attempts(ctx, 1); len(rows) != 0 {
		t.Errorf("engine failure counted as attempt: %+v", rows)
	}
	e.advance(61 * time.Second)
	down.Store(false)
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Fatalf("after engine recovery RunBatch = %+v, want delivered", st)
	}
}

// RetryHeld: when an engine is found back, the messages it held are tried
// at once, not after their backoff; a message held for its own fault (a
// panic, a timeout) keeps its backoff.
func TestRetryHeld(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000011", "engine\n", 0)
	e.enqueue("6AM876nc000012", "poison\n", 0)
	var down atomic.Bool
	down.Store(true)
	p := e.pipeline(e.options(), stageFunc{"virus", func(_ context.Context, m *message.Message) error {
		if strings.Contains(string(m.Body), "poison") {
			panic("bad input")
		}
		if down.Load() {
			return errors.New("clamd: connection refused")
		}
		return nil
	}})
	if st, _ := p.RunBatch(ctx); st.Held != 2 {
		t.Fatalf("RunBatch = %+v, want both held", st)
	}
	down.Store(false)
	if n := p.RetryHeld(); n != 1 {
		t.Errorf("RetryHeld() = %d, want 1 (the engine's, not the panic's)", n)
	}
	st, _ := p.RunBatch(ctx)
	if st.Claimed != 1 || st.Delivered != 1 {
		t.Errorf("RunBatch after RetryHeld = %+v, want the engine's message alone delivered, no time having passed", st)
	}
	if got := names(t, e.in); len(got) != 2 || got[1] != "qf6AM876nc000012" {
		t.Errorf("incoming = %v, want the panicking message still held", got)
	}
}

// A message whose check failed while the engine came back (RetryHeld
// during its check) is not held for the backoff either.
func TestRetryHeldDuringCheck(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000013", "x\n", 0)
	var p *Pipeline
	var calls atomic.Int32
	p = e.pipeline(e.options(), stageFunc{"virus", func(_ context.Context, m *message.Message) error {
		if calls.Add(1) == 1 {
			p.RetryHeld() // another scan found the engine back meanwhile
			return errors.New("clamd: not tried: the engine has just failed")
		}
		return nil
	}})
	if st, _ := p.RunBatch(ctx); st.Held != 1 || st.Delivered != 0 {
		t.Fatalf("first RunBatch = %+v, want the message held back", st)
	}
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Errorf("second RunBatch, no time having passed = %+v, want the message retried and delivered", st)
	}
	if rows, _ := e.st.Attempts(ctx, 1); len(rows) != 0 {
		t.Errorf("the engine's failure counted as an attempt: %+v", rows)
	}
}

// TestPoisonMessage: a message that panics the checks is retried, then
// quarantined whole after max_attempts; the batch goes on.
func TestPoisonMessage(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000020", "poison\n", 0)
	e.enqueue("6AM876nc000021", "fine\n", 0)
	p := e.pipeline(e.options(), stageFunc{"explode", func(_ context.Context, m *message.Message) error {
		if strings.Contains(string(m.Body), "poison") {
			panic("bad input")
		}
		return nil
	}})
	st, _ := p.RunBatch(ctx)
	if st.Delivered != 1 || st.Held != 1 {
		t.Fatalf("first batch = %+v, want 1 delivered, 1 held", st)
	}
	for i := 0; i < 3; i++ {
		e.advance(5 * time.Minute)
		p.RunBatch(ctx)
	}
	if got := quarantineEntries(t, e.quar); len(got) != 1 || got[0] != "6AM876nc000020" {
		t.Fatalf("quarantine = %v, want the poison message", got)
	}
	if len(names(t, e.in)) != 0 {
		t.Errorf("incoming = %v, want empty", names(t, e.in))
	}
	meta := readFile(t, filepath.Join(e.quar, "20261122", "6AM876nc000020", "metadata.json"))
	if !strings.Contains(meta, "could not be processed in 3 attempts") {
		t.Errorf("metadata lacks the reason: %s", meta)
	}
}

func TestTimeoutHolds(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000030", "x\n", 0)
	opt := e.options()
	opt.MessageTimeout = 50 * time.Millisecond
	p := e.pipeline(opt, stageFunc{"spam", func(ctx context.Context, _ *message.Message) error {
		time.Sleep(time.Second) // ignores its context
		return nil
	}})
	start := time.Now()
	st, _ := p.RunBatch(ctx)
	if st.Held != 1 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("RunBatch = %+v after %s, want held at the timeout", st, time.Since(start))
	}
}

func TestOutgoingIDCollision(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000040", "mine\n", 0)
	os.WriteFile(filepath.Join(e.out, "qf6AM876nc000040"), []byte("someone else's\n"), 0o600)
	os.WriteFile(filepath.Join(e.out, "df6AM876nc000040"), []byte("their body\n"), 0o600)
	p := e.pipeline(e.options())
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v", st)
	}
	if got := readFile(t, filepath.Join(e.out, "df6AM876nc000040")); got != "their body\n" {
		t.Errorf("existing outgoing df overwritten: %q", got)
	}
	out := names(t, e.out)
	if len(out) != 4 {
		t.Fatalf("outgoing = %v, want theirs plus ours under a new ID", out)
	}
	for _, n := range out {
		if strings.HasPrefix(n, "df") && n != "df6AM876nc000040" && readFile(t, filepath.Join(e.out, n)) != "mine\n" {
			t.Errorf("%s holds the wrong body", n)
		}
	}
}

// batchStarts counts the batches claimed.
type batchStarts struct {
	NopObserver
	started chan int
}

func (o batchStarts) BatchStart(n int) { o.started <- n }

// The next batch is claimed while messages of the current one still wait
// for a worker, so that its messages are ready when the workers free up:
// here both workers hold the first batch's first two messages, and two
// more of it wait.
func TestNextBatchClaimedBeforeWorkersFree(t *testing.T) {
	e := newEnv(t)
	const n = 8
	ids := e.enqueueInOrder(n)
	release := make(chan struct{})
	hold := stageFunc{name: "hold", f: func(ctx context.Context, m *message.Message) error {
		if m.ID == ids[0] || m.ID == ids[1] {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}}
	obs := batchStarts{started: make(chan int, n)}
	opt := e.options()
	opt.MaxMessages, opt.Workers, opt.MessageTimeout, opt.Observer = 4, 2, time.Minute, obs
	p := e.pipeline(opt, hold)
	drained := make(chan error, 1)
	go func() {
		_, err := p.Drain(ctx)
		drained <- err
	}()
	for i := 1; i <= 2; i++ {
		select {
		case got := <-obs.started:
			if got != 4 {
				t.Errorf("batch %d claimed %d messages, want 4", i, got)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("batch %d not claimed while the first batch's messages wait for a worker", i)
		}
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if got := names(t, e.out); len(got) != 2*n {
		t.Errorf("outgoing holds %d files, want %d: %v", len(got), 2*n, got)
	}
}

// The next batch is claimed and checked while the current batch's last
// message is still being checked: the workers (and the engines behind
// them) do not wait for a batch's slowest message. Nothing is lost or
// delivered twice.
func TestBatchesOverlap(t *testing.T) {
	e := newEnv(t)
	const n = 8
	ids := e.enqueueInOrder(n)
	release := make(chan struct{})
	overlap := make(chan string, n)
	slow := stageFunc{name: "slow", f: func(ctx context.Context, m *message.Message) error {
		switch m.ID {
		case ids[0]: // the first batch's straggler
			select {
			case <-release:
			case <-ctx.Done():
			}
		case ids[4], ids[5], ids[6], ids[7]:
			overlap <- m.ID
		}
		return nil
	}}
	opt := e.options()
	opt.MaxMessages, opt.Workers, opt.MessageTimeout = 4, 4, time.Minute
	p := e.pipeline(opt, slow)
	drained := make(chan error, 1)
	go func() {
		_, err := p.Drain(ctx)
		drained <- err
	}()
	select {
	case id := <-overlap:
		t.Logf("%s of the second batch checked while %s of the first is", id, ids[0])
	case <-time.After(30 * time.Second):
		t.Error("the second batch was not checked while the first batch's last message was")
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if got := names(t, e.in); len(got) != 0 {
		t.Errorf("incoming left with %v", got)
	}
	if got := names(t, e.out); len(got) != 2*n {
		t.Errorf("outgoing holds %d files, want %d (qf and df of each message once): %v", len(got), 2*n, got)
	}
}
