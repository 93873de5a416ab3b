package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
)

// eximEnv is env with Exim spools for queues: in/input and out/input.
func eximEnv(t *testing.T, split bool) (*env, Options) {
	e := newEnv(t)
	for _, d := range []string{e.in, e.out} {
		if err := os.MkdirAll(filepath.Join(d, "input"), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	opt := e.options()
	opt.MTA = NewExim(exim.Limits{}, split, e.now)
	return e, opt
}

// enqueueExim queues a message in the incoming Exim spool as the first
// Exim writes it and returns its ID.
func (e *env) enqueueExim(body string) string {
	e.t.Helper()
	q := exim.Queue{Dir: e.in, UID: -1, GID: -1}
	raw := "From: a@example.org\nTo: b@example.test\nSubject: exim test\n\n" + body
	id, err := q.Enqueue(exim.NewIDGen(e.now, 4242, 0), []byte(raw), "a@example.org", exim.Rcpts("b@example.test"), exim.NewOpts{Time: e.now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestEximPassThrough: through the queue seam with Exim spools, a clean
// message leaves the incoming spool (every file of it), and arrives in the
// outgoing spool as <ID>-H with qscan's header and <ID>-D hard-linked
// (the very file, the body byte for byte); no hdr.<ID> is left.
func TestEximPassThrough(t *testing.T) {
	for _, split := range []bool{false, true} {
		e, opt := eximEnv(t, split)
		id := e.enqueueExim("hello\n.dot line\n")
		inD := filepath.Join(e.in, "input", id+"-D")
		inode0 := inode(t, inD)
		p := e.pipeline(opt)
		st, err := p.RunBatch(ctx)
		if err != nil || st.Delivered != 1 {
			t.Fatalf("split %v: RunBatch = %+v, %v", split, st, err)
		}
		if left, _ := filepath.Glob(filepath.Join(e.in, "input", id+"*")); len(left) != 0 {
			t.Errorf("split %v: incoming spool keeps %v", split, left)
		}
		q := exim.Queue{Dir: e.out, Split: split}
		h, err := os.ReadFile(q.HPath(id))
		if err != nil {
			t.Fatalf("split %v: %v", split, err)
		}
		parsed, err := exim.ParseH(bytes.NewReader(h), exim.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := parsed.Header("X-test-QScan"); !ok || v != "Found to be clean" {
			t.Errorf("split %v: X-test-QScan = %q, %v\n%s", split, v, ok, h)
		}
		if inode(t, q.DPath(id)) != inode0 {
			t.Errorf("split %v: the -D was copied, want the incoming file linked", split)
		}
		d, _ := os.ReadFile(q.DPath(id))
		if want := id + "-D\nhello\n.dot line\n"; string(d) != want {
			t.Errorf("split %v: -D = %q, want %q", split, d, want)
		}
		if _, err := os.Stat(q.TempHPath(id)); err == nil {
			t.Errorf("split %v: hdr.%s left", split, id)
		}
	}
}

// TestEximCleaned: a message whose body is rebuilt goes out with a new -D
// under its ID, the body line count of the new body, and its -H edited.
func TestEximCleaned(t *testing.T) {
	e, opt := eximEnv(t, false)
	id := e.enqueueExim("original\nbody\n")
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	p := e.pipeline(opt, infect)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	q := exim.Queue{Dir: e.out}
	d, _ := os.ReadFile(q.DPath(id))
	if want := id + "-D\ncleaned body\n"; string(d) != want {
		t.Errorf("-D = %q, want %q", d, want)
	}
	h, _ := os.ReadFile(q.HPath(id))
	parsed, err := exim.ParseH(bytes.NewReader(h), exim.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.BodyLines() != 1 {
		t.Errorf("-body_linecount = %d, want 1", parsed.BodyLines())
	}
	if v, _ := parsed.Header("X-test-QScan"); v != "Found to be infected" {
		t.Errorf("X-test-QScan = %q", v)
	}
	if !strings.Contains(string(parsed.HeaderBlock()), "boundary=x") {
		t.Errorf("header edit missing:\n%s", parsed.HeaderBlock())
	}
}

// TestEximIDTakenCopiesData: when the ID is taken in the outgoing spool the
// message goes under a fresh ID, and the -D is a copy whose first line
// names that ID (a link would name the old one).
func TestEximIDTakenCopiesData(t *testing.T) {
	e, opt := eximEnv(t, false)
	id := e.enqueueExim("body\n")
	os.WriteFile(filepath.Join(e.out, "input", id+"-H"), []byte("someone else's"), 0o600)
	p := e.pipeline(opt)
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	hs, _ := filepath.Glob(filepath.Join(e.out, "input", "*-H"))
	if len(hs) != 2 {
		t.Fatalf("outgoing -H files = %v, want the stranger's and ours", hs)
	}
	for _, h := range hs {
		nid := strings.TrimSuffix(filepath.Base(h), "-H")
		if nid == id {
			continue
		}
		d, _ := os.ReadFile(filepath.Join(e.out, "input", nid+"-D"))
		if want := nid + "-D\nbody\n"; string(d) != want {
			t.Errorf("-D = %q, want %q", d, want)
		}
		hb, _ := os.ReadFile(h)
		if !strings.HasPrefix(string(hb), nid+"-H\n") {
			t.Errorf("-H first line is not its ID %s:\n%s", nid, hb)
		}
	}
}
