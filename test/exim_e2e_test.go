//go:build e2e

package test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/test/stackutil"
)

// eximIn submits n messages to exim-in and returns its spool entries by
// subject token.
func eximIn(t *testing.T, e stackutil.Exim, tokens []string, bodies map[string]string) map[string]exim.Entry {
	t.Helper()
	for _, tok := range tokens {
		msg := fmt.Sprintf("From: alice@sender.example\nTo: bob@example.test\nSubject: exim %s\nMessage-ID: <%s@sender.example>\n\n%s", tok, tok, bodies[tok])
		if err := stackutil.Submit(e.SMTP, "alice@sender.example", []string{"bob@example.test", "carol@example.test"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stackutil.WaitSpool(e.SpoolIn, len(tokens), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	es, err := exim.List(e.SpoolIn)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]exim.Entry{}
	for _, en := range es {
		raw, _ := os.ReadFile(en.HPath)
		h, err := exim.ParseH(bytes.NewReader(raw), exim.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", en.ID, err)
		}
		subj, _ := h.Header("Subject")
		out[strings.TrimPrefix(subj, "exim ")] = en
	}
	if len(out) != len(tokens) {
		t.Fatalf("exim-in holds %d messages, want %d", len(out), len(tokens))
	}
	return out
}

// TestEximSpoolRoundTrip: messages that exim-in parked are claimed with
// Exim's lock and read; one goes to exim-out with a changed header and
// its -D hard-linked under the same ID, one with a replaced body under a
// new ID, and a new message is written; exim -bp lists all three, exim
// -Mvh shows their headers, exim -M delivers them to the sink with the
// bodies byte for byte; the incoming files are removed.
func TestEximSpoolRoundTrip(t *testing.T) {
	s, e := stackutil.RequireExim(t)
	for _, sp := range []string{e.SpoolIn, e.SpoolOut} {
		if err := stackutil.EmptySpool(sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	tok := fmt.Sprintf("t%d", time.Now().UnixNano())
	keep, replace := tok+"-keep", tok+"-replace"
	bodies := map[string]string{
		keep:    "Unchanged body.\n.a line with a leading dot\n\n\xe9 8-bit byte\nlast line\n",
		replace: "This body is replaced.\n",
	}
	in := eximIn(t, e, []string{keep, replace}, bodies)

	qIn, err := exim.OpenQueue(e.SpoolIn, false)
	if err != nil {
		t.Fatal(err)
	}
	qOut, err := exim.OpenQueue(e.SpoolOut, true)
	if err != nil {
		t.Fatal(err)
	}
	gen := exim.NewIDGen(time.Now, os.Getpid(), -1)
	wantBody := map[string]string{} // outgoing ID → body
	wantSubj := map[string]string{}

	// 1. Same ID, header edits, the -D hard-linked from the locked file.
	en := in[keep]
	keepID := en.ID
	l, err := exim.Lock(en.ID, en.HPath, en.DPath)
	if err != nil {
		t.Fatalf("lock %s: %v", en.ID, err)
	}
	h, err := l.ReadH(exim.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Recipients(); len(got) != 2 || got[1].Address != "carol@example.test" || h.Sender() != "alice@sender.example" {
		t.Fatalf("envelope of %s: %q %+v", en.ID, h.Sender(), got)
	}
	body, err := l.Body()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(body); string(b) != bodies[keep] {
		t.Fatalf("-D body of %s = %q, want %q", en.ID, b, bodies[keep])
	}
	if err := h.Edit([]message.HeaderEdit{
		{Op: message.HeaderReplace, Name: "Subject", Value: "{Scanned} exim " + keep},
		{Op: message.HeaderAdd, Name: "X-QScan", Value: "Found to be clean"},
	}, false); err != nil {
		t.Fatal(err)
	}
	stamp, err := safeio.StampOf(l.D)
	if err != nil {
		t.Fatal(err)
	}
	if err := qOut.MakeInputDir(en.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := safeio.LinkFile(l.D, qOut.DPath(en.ID), stamp, exim.SpoolMode); err != nil {
		t.Fatalf("link -D: %v", err)
	}
	if err := qOut.WriteTempH(en.ID, h.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := qOut.PublishH(en.ID); err != nil {
		t.Fatal(err)
	}
	if err := qIn.Remove(en); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	wantBody[en.ID], wantSubj[en.ID] = bodies[keep], "{Scanned} exim "+keep
	if !strings.Contains(qOut.HPath(en.ID), "/input/"+exim.Subdir(en.ID)+"/") {
		t.Errorf("exim-out is split, but -H at %s", qOut.HPath(en.ID))
	}

	// 2. A replaced body, under a new ID.
	en = in[replace]
	l, err = exim.Lock(en.ID, en.HPath, en.DPath)
	if err != nil {
		t.Fatal(err)
	}
	if h, err = l.ReadH(exim.Limits{}); err != nil {
		t.Fatal(err)
	}
	newBody := "The body was replaced by qscan.\nLine two.\n.leading dot\n"
	h.SetBodyLines(exim.CountLines([]byte(newBody)))
	id, err := qOut.Publish(gen, h, strings.NewReader(newBody))
	if err != nil {
		t.Fatal(err)
	}
	if id == en.ID {
		t.Fatalf("Publish reused the incoming ID %s", id)
	}
	if err := qIn.Remove(en); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	wantBody[id], wantSubj[id] = newBody, "exim "+replace

	// 3. A new message.
	report := "From: postmaster@example.test\nTo: postmaster@example.test\nSubject: exim " + tok + "-new\n" +
		"Date: Mon, 07 Dec 2026 12:00:00 +0000\nMessage-ID: <" + tok + "@example.test>\n\nA message qscan wrote.\n"
	newID, err := qOut.Enqueue(gen, []byte(report), "", exim.Rcpts("postmaster@example.test"), exim.NewOpts{Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	wantBody[newID], wantSubj[newID] = "A message qscan wrote.\n", "exim "+tok+"-new"

	if left := stackutil.SpoolIDs(e.SpoolIn); len(left) != 0 {
		t.Errorf("exim-in still holds %v after the removals", left)
	}
	listed, err := e.QueueIDs()
	if err != nil {
		t.Fatal(err)
	}
	for id := range wantBody {
		if !strings.Contains(strings.Join(listed, " "), id) {
			t.Errorf("exim -bpi does not list %s: %v", id, listed)
		}
		out, err := e.Out("-Mvh", id)
		if err != nil {
			t.Errorf("exim -Mvh %s: %v", id, err)
		} else if !strings.Contains(string(out), "Subject: "+wantSubj[id]) {
			t.Errorf("exim -Mvh %s lacks Subject: %s:\n%s", id, wantSubj[id], out)
		}
	}
	bp, err := e.Out("-bp")
	if err != nil || !strings.Contains(string(bp), "<alice@sender.example>") || !strings.Contains(string(bp), "<>") {
		t.Errorf("exim -bp: %v\n%s", err, bp)
	}

	ids := make([]string, 0, len(wantBody))
	for id := range wantBody {
		ids = append(ids, id)
	}
	if err := e.Deliver(ids...); err != nil {
		t.Fatal(err)
	}
	msgs, err := stackutil.WaitSink(s.SinkDir, 3, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, m := range msgs {
		subj := stackutil.HeaderValue(m.Data, "Subject")
		for id, want := range wantSubj {
			if subj != want {
				continue
			}
			seen++
			if got := string(stackutil.BodyOf(m.Data)); got != wantBody[id] {
				t.Errorf("%s delivered body %q, want %q", id, got, wantBody[id])
			}
			if id == newID {
				if m.MailFrom != "" || strings.Join(m.RcptTo, ",") != "postmaster@example.test" {
					t.Errorf("new message envelope %q %v", m.MailFrom, m.RcptTo)
				}
				continue
			}
			if m.MailFrom != "alice@sender.example" || strings.Join(m.RcptTo, ",") != "bob@example.test,carol@example.test" {
				t.Errorf("%s envelope %q %v", id, m.MailFrom, m.RcptTo)
			}
			if strings.Count(string(m.Data), "\nSubject:") != 1 {
				t.Errorf("%s: the replaced Subject was sent too:\n%s", id, m.Data)
			}
			if id == keepID && stackutil.HeaderValue(m.Data, "X-QScan") != "Found to be clean" {
				t.Errorf("%s: X-QScan missing:\n%s", id, m.Data)
			}
		}
	}
	if seen != 3 {
		t.Errorf("the sink got %d of the 3 messages", seen)
	}
	if left := stackutil.SpoolIDs(e.SpoolOut); len(left) != 0 {
		t.Errorf("exim-out still holds %v after delivery", left)
	}
	if m, _ := filepath.Glob(filepath.Join(e.SpoolOut, "input", "*", "hdr.*")); len(m) != 0 {
		t.Errorf("temporary header files left: %v", m)
	}
}

// TestEximLocksInterwork: the lock of pkg/exim and Exim's own exclude
// each other. While exim-in receives a message (the -D written, the -H
// not yet) Exim holds the -D lock and exim.Lock answers ErrLocked; while
// qscan holds a message of exim-out, `exim -M` leaves it alone.
func TestEximLocksInterwork(t *testing.T) {
	s, e := stackutil.RequireExim(t)
	for _, sp := range []string{e.SpoolIn, e.SpoolOut} {
		if err := stackutil.EmptySpool(sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}

	// Exim's lock against ours: a transaction stopped in the middle of DATA.
	c, err := textproto.Dial("tcp", e.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(code int, format string, args ...any) {
		t.Helper()
		if format != "" {
			if err := c.PrintfLine(format, args...); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := c.ReadResponse(code); err != nil {
			t.Fatalf("SMTP %q: %v", format, err)
		}
	}
	step(220, "")
	step(250, "EHLO lock.example.test")
	step(250, "MAIL FROM:<alice@sender.example>")
	step(250, "RCPT TO:<bob@example.test>")
	step(354, "DATA")
	w := c.DotWriter()
	fmt.Fprintf(w, "Subject: being received\r\n\r\n%s", strings.Repeat("x\r\n", 100000))
	var dPath string
	if !stackutil.WaitUntil(20*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(e.SpoolIn, "input", "*-D"))
		if len(m) == 1 {
			dPath = m[0]
		}
		return dPath != ""
	}) {
		t.Fatal("exim-in wrote no -D while receiving")
	}
	id := strings.TrimSuffix(filepath.Base(dPath), "-D")
	hPath := filepath.Join(e.SpoolIn, "input", id+"-H")
	if _, err := exim.Lock(id, hPath, dPath); !errors.Is(err, exim.ErrLocked) {
		t.Errorf("Lock while Exim receives %s: %v, want ErrLocked", id, err)
	}
	w.Close()
	step(250, "")
	step(221, "QUIT")
	en := exim.Entry{ID: id, Dir: filepath.Dir(hPath), HPath: hPath, DPath: dPath}
	l, err := exim.Lock(id, hPath, dPath)
	if err != nil {
		t.Fatalf("Lock after reception: %v", err)
	}
	qIn, _ := exim.OpenQueue(e.SpoolIn, false)
	if err := qIn.Remove(en); err != nil {
		t.Fatal(err)
	}
	l.Unlock()

	// Our lock against Exim's: exim -M skips a message qscan holds.
	qOut, err := exim.OpenQueue(e.SpoolOut, true)
	if err != nil {
		t.Fatal(err)
	}
	gen := exim.NewIDGen(time.Now, os.Getpid(), -1)
	msg := "From: a@sender.example\nTo: b@example.test\nSubject: held by qscan\n\nbody\n"
	out, err := qOut.Enqueue(gen, []byte(msg), "a@sender.example", exim.Rcpts("b@example.test"), exim.NewOpts{Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	l, err = exim.Lock(out, qOut.HPath(out), qOut.DPath(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Deliver(out); err != nil {
		t.Logf("exim -M on a locked message: %v", err)
	}
	if ids, _ := e.QueueIDs(); !slices.Contains(ids, out) {
		t.Errorf("exim -M delivered %s while qscan held its lock (queue: %v)", out, ids)
	}
	if msgs, _ := stackutil.ReadSink(s.SinkDir); len(msgs) != 0 {
		t.Errorf("the sink got %d messages while the only one was locked", len(msgs))
	}
	l.Unlock()
	if err := e.Deliver(out); err != nil {
		t.Fatal(err)
	}
	if _, err := stackutil.WaitSink(s.SinkDir, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}
