package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/postfix"
)

// postfixEnv is env with a Postfix queue_directory: hold is the incoming
// queue, incoming the outgoing one.
func postfixEnv(t *testing.T) (*env, Options, postfix.Queue) {
	e := newEnv(t)
	root := filepath.Join(filepath.Dir(e.in), "postfix")
	for _, q := range []string{postfix.Hold, postfix.Incoming, postfix.Active, postfix.Deferred, postfix.Corrupt} {
		if err := os.MkdirAll(filepath.Join(root, q), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.in, e.out = filepath.Join(root, postfix.Hold), filepath.Join(root, postfix.Incoming)
	opt := e.options()
	opt.MTA = NewPostfix(postfix.Limits{}, postfix.Queue{}, e.now)
	return e, opt, postfix.Queue{Dir: root}
}

// holdPostfix puts a message into the hold queue as Postfix's cleanup does and
// returns its ID.
func holdPostfix(t *testing.T, e *env, q postfix.Queue, body string) string {
	t.Helper()
	f, err := postfix.NewFile([]byte("From: a@example.org\nTo: b@example.test\nSubject: held\n"), []byte(body),
		postfix.NewOpts{Time: e.now(), Sender: "a@example.org", Recipients: []postfix.NewRcpt{{Addr: "b@example.test", Notify: postfix.NotifyFailure}},
			ClientAddr: "192.0.2.7", Helo: "client.example", Protocol: "ESMTP"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := q.PublishTo(postfix.Hold, f.Bytes(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// readQueued parses queue file id of queue.
func readQueued(t *testing.T, q postfix.Queue, queue, id string) *postfix.File {
	t.Helper()
	b, err := os.ReadFile(q.Path(queue, id))
	if err != nil {
		t.Fatal(err)
	}
	f, err := postfix.Parse(bytes.NewReader(b), postfix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPostfixPassThrough: a held message leaves hold and arrives in the
// incoming queue under its own ID, complete (mode 0700), with qscan's
// header, the same body and envelope (DSN data kept); no temporary file
// is left; the checks saw the client of the queue file.
func TestPostfixPassThrough(t *testing.T) {
	e, opt, q := postfixEnv(t)
	id := holdPostfix(t, e, q, "hello\n.dot line\n")
	var seen message.Envelope
	p := e.pipeline(opt, stageFunc{"look", func(_ context.Context, m *message.Message) error { seen = m.Envelope; return nil }})
	st, err := p.RunBatch(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if left, _ := os.ReadDir(e.in); len(left) != 0 {
		t.Errorf("hold keeps %v", left)
	}
	f := readQueued(t, q, postfix.Incoming, id)
	if v, ok := (postfixControl{f}).Header("X-test-QScan"); !ok || v != "Found to be clean" {
		t.Errorf("X-test-QScan = %q, %v", v, ok)
	}
	if string(f.Body()) != "hello\n.dot line\n" {
		t.Errorf("body = %q", f.Body())
	}
	env := f.Envelope()
	if env.Sender != "a@example.org" || len(env.Recipients) != 1 || env.Recipients[0].Notify != postfix.NotifyFailure {
		t.Errorf("envelope = %+v", env)
	}
	if st, _ := os.Stat(q.Path(postfix.Incoming, id)); st.Mode().Perm() != postfix.ReadyMode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), os.FileMode(postfix.ReadyMode))
	}
	if tmps, _ := filepath.Glob(filepath.Join(e.out, "qscan.*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	if seen.ClientIP.String() != "192.0.2.7" || seen.Helo != "client.example" || !slices.Equal(seen.Recipients, []string{"b@example.test"}) {
		t.Errorf("the checks saw envelope %+v", seen)
	}
}

// TestPostfixCleaned: a rebuilt body goes out in the queue file, with the
// header edits; the postmaster report is a queue file of its own.
func TestPostfixCleaned(t *testing.T) {
	e, opt, q := postfixEnv(t)
	id := holdPostfix(t, e, q, "original\n")
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	opt.Notifier = &fakeNotifier{}
	p := e.pipeline(opt, infect)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	f := readQueued(t, q, postfix.Incoming, id)
	if string(f.Body()) != "cleaned body\n" {
		t.Errorf("body = %q", f.Body())
	}
	if v, _ := (postfixControl{f}).Header("X-test-QScan"); v != "Found to be infected" {
		t.Errorf("X-test-QScan = %q", v)
	}
	all, _ := q.List(postfix.Incoming)
	if len(all) != 2 {
		t.Fatalf("incoming queue = %+v, want the message and the postmaster report", all)
	}
	for _, en := range all {
		if en.ID == id {
			continue
		}
		r := readQueued(t, q, postfix.Incoming, en.ID)
		if r.Envelope().Sender != "" || r.Envelope().Recipients[0].Addr != "postmaster@example.test" {
			t.Errorf("report envelope = %+v", r.Envelope())
		}
	}
}

// TestPostfixForward: the spam forward replaces the recipients of the
// queue file.
func TestPostfixForward(t *testing.T) {
	e, _, _ := postfixEnv(t)
	f, err := postfix.NewFile([]byte("Subject: s\n"), []byte("b\n"), postfix.NewOpts{Time: e.now(), Sender: "a@example.org", Recipients: []postfix.NewRcpt{{Addr: "b@example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := postfixControl{f}
	if err := c.Forward([]string{"spam@example.test"}, false); err != nil {
		t.Fatal(err)
	}
	if got := c.Envelope().Recipients; !slices.Equal(got, []string{"b@example.test", "spam@example.test"}) {
		t.Errorf("forward kept = %v", got)
	}
	if err := c.Forward([]string{"only@example.test"}, true); err != nil {
		t.Fatal(err)
	}
	if got := c.Envelope().Recipients; !slices.Equal(got, []string{"only@example.test"}) {
		t.Errorf("forward only = %v", got)
	}
}

// TestPostfixNotReadySetAside: a queue file in hold that cleanup never
// made ready (mode 0600, not empty) is busy while young; once old it is
// set aside into the quarantine with the reason said as it is, not as an
// empty file.
func TestPostfixNotReadySetAside(t *testing.T) {
	e, opt, q := postfixEnv(t)
	id := holdPostfix(t, e, q, "never finished\n")
	path := q.Path(postfix.Hold, id)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Claimed != 0 {
		t.Fatalf("young: RunBatch = %+v, %v", st, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a young file without the ready mode was touched: %v", err)
	}
	old := e.now().Add(-2 * opt.SetAsideAfter)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RunBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("old file without the ready mode still in hold: %v", err)
	}
	metas, _ := filepath.Glob(filepath.Join(e.quar, "*", id, "metadata.json"))
	if len(metas) != 1 {
		t.Fatalf("quarantine entries of %s: %v", id, metas)
	}
	if meta := readFile(t, metas[0]); !strings.Contains(meta, "never made ready") {
		t.Errorf("metadata does not give the reason: %s", meta)
	}
}
