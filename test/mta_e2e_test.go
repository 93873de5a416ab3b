//go:build e2e

package test

import (
	"bytes"
	"encoding/json"

	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestPostfixThrough: 200 generated messages (plain, 8-bit, multipart
// with attachments, long folded headers, dot lines; one in ten with EICAR
// in a zip) submitted by SMTP to the real Postfix 3.7, held by its
// header_checks, checked by `qscan run --once` with the shipped
// configuration (mta = "postfix") and delivered by Postfix's queue
// manager to the sink; see throughMTA.
func TestPostfixThrough(t *testing.T) { throughMTA(t, postfixRig(t)) }

// TestEximThrough: the same through the real Exim 4.96: exim-in parks the
// mail in its queue_only spool, qscan writes exim-out's split spool, and
// exim-out delivers.
func TestEximThrough(t *testing.T) { throughMTA(t, eximRig(t)) }

// throughMTA: every message reaches the sink exactly once with qscan's
// header; a clean one with its body byte for byte as submitted, an
// infected one cleaned (no EICAR left, the header says so) and kept in
// the quarantine; `qscan quarantine release` of one then delivers the
// original, EICAR and all. Nothing is left in either queue.
func throughMTA(t *testing.T, r mtaRig) {
	r.clean(t)
	root := t.TempDir()
	cfg := r.config(t, root)
	const n = 200
	msgs := make([]stackutil.Msg, n)
	infected := 0
	for i := range msgs {
		msgs[i] = stackutil.Message("mta", i, r.name, i%10 == 3)
		if msgs[i].Infected {
			infected++
		}
	}
	began := time.Now()
	r.submit(t, msgs)
	submitted := time.Now()
	bin := stackutil.Binary(t)
	run := exec.Command(bin, "run", "--once", "-c", cfg)
	run.Env = r.qscanEnv()
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, lastLines(string(out), 20))
	}
	scanned := time.Now()
	if f := r.incomingFiles(); len(f) != 0 {
		t.Fatalf("%s's incoming queue still holds %d files: %s\n%s", r.name, len(f), left(f), lastLines(string(out), 20))
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	got, err := stackutil.WaitSink(r.s.SinkDir, n, 3*time.Minute)
	if err != nil {
		t.Fatalf("%v\nqscan:\n%s", err, lastLines(string(out), 20))
	}
	t.Logf("%d messages (%d infected) through %s: submitted in %s, through qscan in %s, delivered in %s", n, infected, r.name,
		submitted.Sub(began).Round(time.Millisecond), scanned.Sub(submitted).Round(time.Millisecond), time.Since(scanned).Round(time.Millisecond))
	time.Sleep(time.Second) // let a duplicate arrive too
	got, _ = stackutil.ReadSink(r.s.SinkDir)
	checkDelivered(t, msgs, got)
	if f := r.outgoingLeft(); len(f) != 0 {
		t.Errorf("%s's outgoing queue holds %d files after delivery: %s", r.name, len(f), left(f))
	}

	// The quarantine holds each infected message once; a release delivers
	// the original.
	entries := quarantineList(t, bin, cfg, r)
	if len(entries) != infected {
		t.Fatalf("%d quarantine entries for %d infected messages", len(entries), infected)
	}
	if err := stackutil.ClearSink(r.s.SinkDir); err != nil {
		t.Fatal(err)
	}
	rel := exec.Command(bin, "quarantine", "release", "-c", cfg, entries[0])
	rel.Env = r.qscanEnv()
	if out, err := rel.CombinedOutput(); err != nil {
		t.Fatalf("quarantine release %s: %v\n%s", entries[0], err, out)
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	back, err := stackutil.WaitSink(r.s.SinkDir, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	id := stackutil.HeaderValue(back[0].Data, "Message-ID")
	var orig *stackutil.Msg
	for i := range msgs {
		if msgs[i].ID == id {
			orig = &msgs[i]
		}
	}
	switch {
	case orig == nil || !orig.Infected:
		t.Errorf("released message %q is not one of the infected ones", id)
	case !bytes.Equal(stackutil.BodyOf(back[0].Data), stackutil.BodyOf(orig.Raw)):
		t.Errorf("released %s: body is not the original's: %s", id, firstDiff(stackutil.BodyOf(orig.Raw), stackutil.BodyOf(back[0].Data)))
	}
	if len(back[0].RcptTo) != 1 || back[0].RcptTo[0] != "bob@example.test" {
		t.Errorf("released to %v, want bob@example.test", back[0].RcptTo)
	}
}

// quarantineList returns the IDs `qscan quarantine list --json` prints.
func quarantineList(t *testing.T, bin, cfg string, r mtaRig) []string {
	t.Helper()
	cmd := exec.Command(bin, "quarantine", "list", "--json", "-c", cfg)
	cmd.Env = r.qscanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("quarantine list: %v\n%s", err, out)
	}
	var entries []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &entries); err != nil {
		entries = entries[:0]
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var e struct {
				ID string `json:"id"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.ID != "" {
				entries = append(entries, e)
			}
		}
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = filepath.ToSlash(e.ID)
	}
	return ids
}
