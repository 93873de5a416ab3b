//go:build e2e || reliability

package test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/test/stackutil"
)

// mtaRig is one real MTA of the test stack in qscan's queue layout, as the
// MTA tests (TestPostfix…, TestExim…) drive it: mail goes in by SMTP, qscan
// runs with the shipped configuration pointed at the MTA's queues, and the
// MTA delivers to the sink. The MTA's addresses, queues, [queue] keys and
// environment are stackutil.MTA's (shared with the bench).
type mtaRig struct {
	stackutil.MTA
	name     string
	s        stackutil.Stack
	smtp     string // where mail is submitted
	incoming string // [queue] incoming
	env      []string
	// incomingFiles lists every file left in the incoming queue.
	incomingFiles func() []string
	// flush makes the outgoing MTA deliver what is queued now (the
	// shipped configuration does not kick).
	flush func() error
	// outgoingLeft lists the messages and files of ours still in the
	// outgoing queue (after delivery: none).
	outgoingLeft func() []string
}

// rig fills in the fields of r that come from m.
func rig(s stackutil.Stack, m stackutil.MTA, r mtaRig) mtaRig {
	r.MTA, r.s, r.name, r.smtp, r.incoming, r.env = m, s, m.Name, m.SMTP, m.Incoming, m.Env
	return r
}

// files lists the files under dir, recursively.
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// postfixRig is the stack's Postfix 3.7 (header_checks HOLD): qscan reads
// hold and writes incoming; its postkick and postconf are the unpacked
// package's, which need LD_LIBRARY_PATH.
func postfixRig(t *testing.T) mtaRig {
	t.Helper()
	p := stackutil.RequirePostfix(t)
	s, err := stackutil.Env()
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.PostfixMTA()
	if err != nil {
		t.Fatal(err)
	}
	return rig(s, m, mtaRig{
		incomingFiles: func() []string { return files(m.Incoming) },
		flush: func() error {
			_, err := p.Kicker().Kick(context.Background())
			return err
		},
		outgoingLeft: func() []string {
			var left []string
			for _, queue := range []string{postfix.Incoming, postfix.Active, postfix.Deferred} {
				left = append(left, files(filepath.Join(p.QueueDir, queue))...)
			}
			return left
		},
	})
}

// eximRunners is how many `exim -qff` run at once to flush exim-out.
const eximRunners = 4

// eximRig is the stack's two Exims: exim-in (queue_only, spool exim4.in)
// takes mail by SMTP; qscan writes into exim-out's split spool, whose
// queue runner, or a run of `exim -qff`, delivers to the sink.
func eximRig(t *testing.T) mtaRig {
	t.Helper()
	s, e := stackutil.RequireExim(t)
	input := func(spool string) []string { return files(filepath.Join(spool, "input")) }
	return rig(s, e.EximMTA(), mtaRig{
		incomingFiles: func() []string { return input(e.SpoolIn) },
		flush: func() error {
			// Queue runners side by side (each skips the messages another
			// has locked): one delivers a message at a time.
			errs := make(chan error, eximRunners)
			for range eximRunners {
				go func() {
					_, err := e.Out("-qff")
					errs <- err
				}()
			}
			var err error
			for range eximRunners {
				err = cmp.Or(<-errs, err)
			}
			return err
		},
		outgoingLeft: func() []string { return input(e.SpoolOut) },
	})
}

// clean empties the MTA's queues and the sink.
func (r mtaRig) clean(t *testing.T) {
	t.Helper()
	if err := r.Empty(); err != nil {
		t.Fatal(err)
	}
	if err := stackutil.ClearSink(r.s.SinkDir); err != nil {
		t.Fatal(err)
	}
}

// config writes the shipped configuration for this MTA under root: the
// stack's paths and addresses, the MTA's queues and its [queue] keys,
// nothing else (stackutil.MTA.Config). It returns the path.
func (r mtaRig) config(t *testing.T, root string) string {
	t.Helper()
	text, err := r.Config(r.s, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(p, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// submit sends msgs by SMTP to the MTA and waits until it has queued them.
func (r mtaRig) submit(t *testing.T, msgs []stackutil.Msg) {
	t.Helper()
	raws := make([][]byte, len(msgs))
	for i, m := range msgs {
		raws[i] = m.Raw
	}
	for i, err := range stackutil.SubmitAll(r.smtp, "sender@example.org", []string{"bob@example.test"}, raws) {
		if err != nil {
			t.Fatalf("submit %s to %s: %v", msgs[i].ID, r.name, err)
		}
	}
	if !stackutil.WaitUntil(2*time.Minute, func() bool { return r.Queued() >= len(msgs) }) {
		t.Fatalf("%s queued %d of %d messages", r.name, r.Queued(), len(msgs))
	}
}

// qscanEnv is the environment of a qscan run against this MTA.
func (r mtaRig) qscanEnv() []string { return append(os.Environ(), r.env...) }

// left returns the first few of files, for a message.
func left(files []string) string {
	return strings.Join(files[:min(len(files), 5)], " ")
}

// checkDelivered checks what reached the sink against msgs: each exactly
// once with qscan's header, a clean body byte for byte as sent, an
// infected one without EICAR.
func checkDelivered(t *testing.T, msgs []stackutil.Msg, got []stackutil.SinkMsg) {
	t.Helper()
	byID := map[string]stackutil.Msg{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	seen := map[string]int{}
	for _, g := range got {
		id := stackutil.HeaderValue(g.Data, "Message-ID")
		m, ok := byID[id]
		if !ok {
			continue // a postmaster report
		}
		if seen[id]++; seen[id] > 1 {
			continue
		}
		h := stackutil.HeaderValue(g.Data, "X-yoursite-QScan")
		switch {
		case m.Infected && bytes.Contains(g.Data, []byte("EICAR-STANDARD")):
			t.Errorf("%s delivered with its virus", id)
		case m.Infected && h != "Found to be infected":
			t.Errorf("%s (infected): X-yoursite-QScan = %q", id, h)
		case !m.Infected && h != "Found to be clean":
			t.Errorf("%s: X-yoursite-QScan = %q", id, h)
		case !m.Infected && !bytes.Equal(stackutil.BodyOf(g.Data), stackutil.BodyOf(m.Raw)):
			t.Errorf("%s: body changed on the way: %s", id, diffAt(stackutil.BodyOf(m.Raw), stackutil.BodyOf(g.Data)))
		}
	}
	lost := 0
	for _, m := range msgs {
		switch n := seen[m.ID]; {
		case n == 0:
			if lost++; lost <= 5 {
				t.Errorf("%s never arrived", m.ID)
			}
		case n > 1:
			t.Errorf("%s arrived %d times", m.ID, n)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d messages lost", lost, len(msgs))
	}
}

// diffAt says where b first differs from a.
func diffAt(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("first difference at byte %d of %d (got %d bytes): want %.40q, got %.40q", i, len(a), len(b), a[i:], b[i:])
}
