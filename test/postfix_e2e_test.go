//go:build e2e

package test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/test/stackutil"
)

// claimHeld submits msg to the stack's Postfix, waits for header_checks to
// hold it, and claims it: lock and parse.
func claimHeld(t *testing.T, p stackutil.Postfix, env stackutil.Envelope, msg string) (*postfix.Locked, *postfix.File) {
	t.Helper()
	if err := stackutil.SubmitEnvelope(p.SMTP, env, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	es, err := p.WaitHeld(1, 30*time.Second)
	if err != nil || len(es) != 1 {
		t.Fatalf("held: %v, %v", es, err)
	}
	l, err := postfix.Lock(es[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	// Another claimer (a second qscan) is kept out by the lock.
	if _, err := postfix.Lock(es[0].Path); !errors.Is(err, postfix.ErrLocked) {
		t.Errorf("second Lock of %s: %v, want ErrLocked", es[0].ID, err)
	}
	f, err := l.Parse(postfix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return l, f
}

// publishAndCheck publishes data into Postfix's incoming queue and checks
// that postcat and postqueue read it before the queue manager is woken.
func publishAndCheck(t *testing.T, p stackutil.Postfix, q postfix.Queue, data []byte, token string) string {
	t.Helper()
	id, err := q.Publish(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !postfix.ValidID(id) {
		t.Fatalf("published ID %q is not valid", id)
	}
	out, err := p.Run("postcat", "-q", id)
	if err != nil {
		t.Fatalf("postcat -q %s: %v", id, err)
	}
	if !bytes.Contains(out, []byte(token)) {
		t.Errorf("postcat -q %s does not show %q:\n%s", id, token, out)
	}
	// The queue manager scans incoming when woken (or every 300 s): until
	// the kick, the file waits there and postqueue lists it.
	out, err = p.Run("postqueue", "-p")
	if err != nil {
		t.Fatalf("postqueue -p: %v", err)
	}
	if !bytes.Contains(out, []byte(id)) {
		t.Errorf("postqueue -p does not list %s:\n%s", id, out)
	}
	return id
}

// kickAndWait wakes the queue manager and waits for the sink to receive
// the message that holds token.
func kickAndWait(t *testing.T, p stackutil.Postfix, sinkDir, token string) stackutil.SinkMsg {
	t.Helper()
	if out, err := p.Kicker().Kick(t.Context()); err != nil {
		t.Fatalf("postkick: %v: %s", err, out)
	}
	var got *stackutil.SinkMsg
	stackutil.WaitUntil(60*time.Second, func() bool {
		msgs, _ := stackutil.ReadSink(sinkDir)
		for i := range msgs {
			if bytes.Contains(msgs[i].Data, []byte(token)) {
				got = &msgs[i]
				return true
			}
		}
		return false
	})
	if got == nil {
		out, _ := p.Run("postqueue", "-p")
		t.Fatalf("no message with %s reached the sink\npostqueue -p:\n%s", token, out)
	}
	return *got
}

// TestPostfixRoundTrip runs qscan's Postfix layout against the real
// Postfix 3.7: a message held by header_checks is claimed; a copy with an
// edited header, one with a replaced body and a new message from NewFile
// are written into the incoming queue; postcat reads each, postqueue lists
// each, the real queue manager delivers each to the sink with the bytes
// written, and the held file is removed.
func TestPostfixRoundTrip(t *testing.T) {
	p := stackutil.RequirePostfix(t)
	s, err := stackutil.Env()
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Queue()
	if err != nil {
		t.Fatal(err)
	}
	clearHold(t, p)
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("pf%d", rand.Uint32())
	body := "First line.\n.leading dot\n\n" + strings.Repeat("x", 3000) + "\nlast line\n"
	held := func(token string) string {
		return "From: alice@sender.example\nTo: bob@example.test\nSubject: round trip " + token + "\nMessage-ID: <" + token + "@sender.example>\n\n" + body
	}
	env := stackutil.Envelope{From: "alice@sender.example", To: []string{"bob@example.test", "carol@example.test"}}

	t.Run("edited header, body unchanged", func(t *testing.T) {
		token := base + "a"
		l, f := claimHeld(t, p, env, held(token))
		heldID := l.Path[strings.LastIndexByte(l.Path, '/')+1:]
		if string(f.Body()) != body {
			t.Fatalf("held body = %.100q, want %.100q", f.Body(), body)
		}
		err := f.Edit([]message.HeaderEdit{
			{Op: message.HeaderAdd, Name: "X-QScan", Value: "clean " + token},
			{Op: message.HeaderReplace, Name: "Subject", Value: "{Scanned} round trip " + token},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := f.Message()
		publishAndCheck(t, p, q, f.Bytes(), "X-QScan: clean "+token)
		// Commit marker last: the held file goes only once the copy is durable.
		if err := l.Remove(); err != nil {
			t.Fatal(err)
		}
		if es, _ := q.List(postfix.Hold); len(es) != 0 {
			t.Errorf("hold queue after Remove: %v", es)
		}
		out, _ := p.Run("postqueue", "-p")
		if bytes.Contains(out, []byte(heldID)) {
			t.Errorf("postqueue -p still lists the held %s:\n%s", heldID, out)
		}
		got := kickAndWait(t, p, s.SinkDir, token)
		if !bytes.Equal(got.Data, want) {
			t.Errorf("delivered message differs from the one written\n got %.300q\nwant %.300q", got.Data, want)
		}
		if string(stackutil.BodyOf(got.Data)) != body {
			t.Errorf("delivered body is not byte-identical")
		}
		if got.MailFrom != "alice@sender.example" || strings.Join(got.RcptTo, ",") != "bob@example.test,carol@example.test" {
			t.Errorf("envelope from=%q to=%q", got.MailFrom, got.RcptTo)
		}
	})

	t.Run("replaced body", func(t *testing.T) {
		token := base + "b"
		l, f := claimHeld(t, p, env, held(token))
		newBody := "This message was cleaned by qscan " + token + ".\n\nThe attachment was removed.\n"
		if err := f.SetBody(strings.NewReader(newBody)); err != nil {
			t.Fatal(err)
		}
		publishAndCheck(t, p, q, f.Bytes(), "cleaned by qscan "+token)
		if err := l.Remove(); err != nil {
			t.Fatal(err)
		}
		got := kickAndWait(t, p, s.SinkDir, token)
		if got := string(stackutil.BodyOf(got.Data)); got != newBody {
			t.Errorf("delivered body = %q, want %q", got, newBody)
		}
	})

	t.Run("new message", func(t *testing.T) {
		token := base + "c"
		hdr := "From: postmaster@example.test\nTo: admin@example.test\nSubject: qscan report " + token + "\nMessage-ID: <report-" + token + "@example.test>\nDate: Mon, 07 Dec 2026 12:00:00 +0000\n"
		nbody := "A virus was found.\n" + strings.Repeat("y", 2500) + "\n"
		f, err := postfix.NewFile([]byte(hdr), []byte(nbody), postfix.NewOpts{
			Time: time.Now(), Sender: "postmaster@example.test",
			Recipients: []postfix.NewRcpt{{Addr: "admin@example.test"}, {Addr: "bob@example.test", Notify: postfix.NotifyFailure}},
		})
		if err != nil {
			t.Fatal(err)
		}
		publishAndCheck(t, p, q, f.Bytes(), "qscan report "+token)
		got := kickAndWait(t, p, s.SinkDir, token)
		if want := hdr + "\n" + nbody; string(got.Data) != want {
			t.Errorf("delivered = %.300q, want %.300q", got.Data, want)
		}
		if got.MailFrom != "postmaster@example.test" || strings.Join(got.RcptTo, ",") != "admin@example.test,bob@example.test" {
			t.Errorf("envelope from=%q to=%q", got.MailFrom, got.RcptTo)
		}
	})
}

// TestPostfixQueueIDs checks qscan's queue IDs and paths against Postfix's
// own structure check (postsuper -s): a short ID whose inode part is the
// file's is left alone whatever enable_long_queue_ids says; a long one is
// renamed when long IDs are off (the stack's setting), which is why
// Publish makes short IDs unless told otherwise; and postsuper, run with
// hashed hold directories two levels deep, moves a file to where
// Queue.Path says it is. A file published into hold is listed by postqueue
// and claimed like a held one.
func TestPostfixQueueIDs(t *testing.T) {
	p := stackutil.RequirePostfix(t)
	q, err := p.Queue()
	if err != nil {
		t.Fatal(err)
	}
	if q.LongIDs {
		t.Skip("the stack runs with enable_long_queue_ids = yes")
	}
	clearHold(t, p)
	f, err := postfix.NewFile([]byte("From: a@example.test\nSubject: ids\n"), []byte("ids\n"),
		postfix.NewOpts{Time: time.Now(), Sender: "a@example.test", Recipients: []postfix.NewRcpt{{Addr: "b@example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	short, err := q.PublishTo(postfix.Hold, f.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lq := q
	lq.LongIDs = true
	long, err := lq.PublishTo(postfix.Hold, f.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run("postsuper", "-s"); err != nil {
		t.Fatal(err)
	}
	ids := heldIDs(t, q)
	if !ids[short] {
		t.Errorf("postsuper -s renamed the short ID %s: hold has %v", short, ids)
	}
	if ids[long] || len(ids) != 2 {
		t.Errorf("postsuper -s left the long ID %s with long IDs off: hold has %v", long, ids)
	}
	out, err := p.Run("postqueue", "-p")
	if err != nil || !bytes.Contains(out, []byte(short+"!")) {
		t.Errorf("postqueue -p does not list %s as held (%v):\n%s", short, err, out)
	}

	// Hashed hold, two levels: postsuper -s with such a main.cf moves the
	// file where Queue.Path says.
	alt := t.TempDir()
	cf, err := os.ReadFile(filepath.Join(p.Config, "main.cf"))
	if err != nil {
		t.Fatal(err)
	}
	cf = bytes.ReplaceAll(cf, []byte("config_directory = "+p.Config), []byte("config_directory = "+alt))
	cf = append(cf, "\nhash_queue_names = deferred, defer, hold\nhash_queue_depth = 2\n"...)
	master, _ := os.ReadFile(filepath.Join(p.Config, "master.cf"))
	os.WriteFile(filepath.Join(alt, "main.cf"), cf, 0o644)
	os.WriteFile(filepath.Join(alt, "master.cf"), master, 0o644)
	ap := p
	ap.Config = alt
	if _, err := ap.Run("postsuper", "-s"); err != nil {
		t.Fatal(err)
	}
	hq := q
	hq.HashNames, hq.HashDepth = []string{"deferred", "defer", "hold"}, 2
	if _, err := os.Stat(hq.Path(postfix.Hold, short)); err != nil {
		t.Errorf("hashed path of %s: %v", short, err)
	}
	if _, err := p.Run("postsuper", "-s"); err != nil { // back to the stack's flat hold
		t.Fatal(err)
	}
	l, err := postfix.Lock(q.Path(postfix.Hold, short))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(); err != nil {
		t.Fatal(err)
	}
	clearHold(t, p)
}

func heldIDs(t *testing.T, q postfix.Queue) map[string]bool {
	t.Helper()
	es, err := q.List(postfix.Hold)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range es {
		ids[e.ID] = true
	}
	return ids
}

// rec encodes one queue-file record (type, length in 7-bit groups, data).
func rec(b []byte, typ byte, val string) []byte {
	b = append(b, typ)
	n := len(val)
	for {
		c := byte(n & 0x7f)
		if n >>= 7; n != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			break
		}
	}
	return append(b, val...)
}

// pointerQueueFile builds a queue file as cleanup leaves it after a milter
// replaced the Subject: the old header record overwritten by a pointer
// (and padding) into a heap after the end record, where the new header
// is followed by a pointer back.
func pointerQueueFile(token string) []byte {
	ptr := func(off int) string { return fmt.Sprintf("%15d", off) }
	b := rec(nil, 'C', fmt.Sprintf("%15d %15d %15d %15d %15d %15d", 0, 0, 0, 0, 0, 0))
	b = rec(b, 'T', fmt.Sprintf("%d 0", time.Now().Unix()))
	b = rec(b, 'A', "rewrite_context=local")
	b = rec(b, 'S', "alice@sender.example")
	b = rec(b, 'O', "bob@example.test")
	b = rec(b, 'R', "bob@example.test")
	b = rec(b, 'M', "")
	dataOff := len(b)
	b = rec(b, 'N', "From: alice@sender.example")
	ptrAt := len(b)
	b = rec(b, 'p', ptr(0))
	b = rec(b, 'w', "ject: old subject "+token)
	back := len(b)
	b = rec(b, 'N', "To: bob@example.test")
	b = rec(b, 'p', ptr(0))
	b = rec(b, 'N', "")
	b = rec(b, 'N', "pointer body "+token)
	b = rec(b, 'p', ptr(0))
	xOff := len(b)
	b = rec(b, 'X', "")
	b = rec(b, 'E', "")
	heap := len(b)
	b = rec(b, 'N', "Subject: new subject "+token)
	b = rec(b, 'p', ptr(back))
	copy(b[ptrAt+2:], ptr(heap))
	copy(b[2:], fmt.Sprintf("%15d %15d %15d %15d %15d %15d", xOff-dataOff, dataOff, 1, 0, xOff-dataOff, 0))
	return b
}

// TestPostfixPointers checks pkg/postfix's reading of pointer records
// against the real Postfix: a file that jumps to a replaced Subject is
// read by postcat and delivered by qmgr as pkg/postfix reads it, and the
// same file rewritten flat by an edit is delivered alike.
func TestPostfixPointers(t *testing.T) {
	p := stackutil.RequirePostfix(t)
	s, err := stackutil.Env()
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Queue()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("ptr%d", rand.Uint32())
	for _, edit := range []bool{false, true} {
		token := fmt.Sprintf("%s%v", base, edit)
		raw := pointerQueueFile(token)
		f, err := postfix.Parse(bytes.NewReader(raw), postfix.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !f.Pointers() {
			t.Fatal("the file has no pointers")
		}
		if edit {
			if err := f.Edit([]message.HeaderEdit{{Op: message.HeaderAdd, Name: "X-QScan", Value: token}}); err != nil {
				t.Fatal(err)
			}
		}
		want := f.Message()
		id := publishAndCheck(t, p, q, f.Bytes(), "Subject: new subject "+token)
		if out, _ := p.Run("postcat", "-q", id); bytes.Contains(out, []byte("old subject")) {
			t.Errorf("postcat shows the replaced Subject:\n%s", out)
		}
		got := kickAndWait(t, p, s.SinkDir, "pointer body "+token)
		if !bytes.Equal(got.Data, want) {
			t.Errorf("edit=%v: delivered %q, want %q", edit, got.Data, want)
		}
	}
}
