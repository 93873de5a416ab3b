package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

// env is a pair of queue dirs with a quarantine, a store and a clock.
type env struct {
	t                   *testing.T
	in, out, work, quar string
	st                  *store.Store
	mu                  sync.Mutex
	clock               time.Time
	log                 *logrus.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, clock: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
	e.in, e.out, e.work, e.quar = filepath.Join(root, "in"), filepath.Join(root, "out"), filepath.Join(root, "work"), filepath.Join(root, "quar")
	for _, d := range []string{e.in, e.out, e.quar} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(filepath.Join(root, "db", "qscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.log = logrus.New()
	if os.Getenv("QSCAN_TEST_LOG") == "" {
		e.log.SetOutput(io.Discard)
	}
	return e
}

func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

func (e *env) options() Options {
	return Options{
		Incoming: []string{e.in}, Outgoing: e.out, WorkDir: e.work,
		MaxMessages: 30, MaxBytes: 50 << 20, MaxAttempts: 3, Workers: 4,
		MessageTimeout: 2 * time.Second, RetryMin: time.Minute, RetryMax: 4 * time.Minute,
		SetAsideAfter: time.Minute,
		Headers:       Headers{OrgName: "test", Clean: "Found to be clean", AddFrom: true, AddID: true},
	}
}

func (e *env) pipeline(opt Options, stages ...Stage) *Pipeline {
	e.t.Helper()
	p, err := New(opt, e.log, e.st, &quarantineAdapter{q: &quarantine.Quarantine{Dir: e.quar}}, stages, e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { p.Close() })
	return p
}

// enqueue writes a message into the incoming queue as sendmail would and
// sets the qf's mtime to the env clock (minus age).
func (e *env) enqueue(id string, body string, age time.Duration) {
	e.t.Helper()
	hdr := fmt.Sprintf("From: a@example.org\nTo: b@example.test\nSubject: %s\nMessage-ID: <%s@test>\n", id, id)
	qf, err := sendmail.NewQf("a@example.org", []string{"b@example.test"}, []byte(hdr),
		sendmail.NewOpts{Time: e.now(), ClientIP: netip.MustParseAddr("192.0.2.1"), ClientHost: "client.example", Helo: "client.example", Protocol: "ESMTP", BodySize: int64(len(body))})
	if err != nil {
		e.t.Fatal(err)
	}
	e.writeRaw(id, qf.Bytes(), []byte(body), age)
}

// enqueueInOrder queues n messages, each older than the next, and returns
// their IDs in the order they are claimed.
func (e *env) enqueueInOrder(n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("6AM876nc00%04d", i)
		e.enqueue(ids[i], "x\n", time.Duration(n-i)*time.Minute)
	}
	return ids
}

func (e *env) writeRaw(id string, qf, df []byte, age time.Duration) {
	e.t.Helper()
	if df != nil {
		os.WriteFile(filepath.Join(e.in, "df"+id), df, 0o600)
	}
	p := filepath.Join(e.in, "qf"+id)
	if err := os.WriteFile(p, qf, 0o600); err != nil {
		e.t.Fatal(err)
	}
	mt := e.now().Add(-age)
	os.Chtimes(p, mt, mt)
}

// names lists a dir's file names, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// quarantineEntries lists the quarantine's entry directories.
func quarantineEntries(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "metadata.json"))
	for i := range m {
		m[i] = filepath.Base(filepath.Dir(m[i]))
	}
	sort.Strings(m)
	return m
}

type quarantineAdapter struct{ q *quarantine.Quarantine }

func (a *quarantineAdapter) Discard(dir string) error              { return a.q.Discard(dir) }
func (a *quarantineAdapter) Publish(staged string) (string, error) { return a.q.Publish(staged) }

func (a *quarantineAdapter) Staged() ([]StagedEntry, error) {
	st, err := a.q.StagedEntries()
	var out []StagedEntry
	for _, s := range st {
		out = append(out, StagedEntry{Dir: s.Dir, ID: s.QueueID})
	}
	return out, err
}

func (a *quarantineAdapter) Stage(m Quarantined) (string, string, error) {
	it := quarantine.Item{
		Entry: quarantine.Entry{QueueID: m.ID, Time: m.Time, Sender: m.Envelope.Sender, Recipients: m.Envelope.Recipients, Reason: m.Reason, Whole: m.Whole, Subject: m.Subject},
		Qf:    m.Qf, Df: m.Df, Header: m.Header,
	}
	for _, p := range m.Parts {
		it.Parts = append(it.Parts, quarantine.Part{Filename: p.Filename, Report: p.Report})
		it.Data = append(it.Data, p.Data)
	}
	return a.q.Stage(it)
}

// stageFunc is a Stage from a function.
type stageFunc struct {
	name string
	f    func(ctx context.Context, m *message.Message) error
}

func (s stageFunc) Name() string                                        { return s.name }
func (s stageFunc) Check(ctx context.Context, m *message.Message) error { return s.f(ctx, m) }

func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
