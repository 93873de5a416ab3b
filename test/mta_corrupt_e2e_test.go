//go:build e2e

package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/postfix"
	"github.com/qscan/qscan/test/stackutil"
)

// sendmailQf is a sendmail queue file: foreign content in another MTA's
// queue.
const sendmailQf = "V8\nT1764950400\nK0\nN0\nP30000\nMDeferred\nFb\n$_localhost [127.0.0.1]\nSsender@example.org\nrRFC822; bob@example.test\nRPFD:bob@example.test\nH?P?Return-Path: <sender@example.org>\nH??From: sender@example.org\n.\n"

// badFile is a file a test puts into an MTA's incoming queue.
type badFile struct {
	name string // relative to the queue dir
	data string
	mode os.FileMode
}

// TestPostfixCorruptQueueFiles: broken and foreign files in Postfix's
// hold queue (a truncated queue file, garbage, an empty file, a file
// never made ready, a sendmail qf under a queue ID's name) are set aside
// with a log line each by `qscan run --once` with the shipped
// configuration; a good message held beside them is delivered; a file
// whose name is no queue ID is not Postfix's nor qscan's, and stays.
func TestPostfixCorruptQueueFiles(t *testing.T) {
	r := postfixRig(t)
	corruptMTA(t, r, func(good string) []badFile {
		id, raw := filepath.Base(good), readString(t, good)
		ids := fakeIDs(id, 5, "0123456789ABCDEF")
		return []badFile{
			{ids[0], raw[:len(raw)/2], 0o700},                      // truncated
			{ids[1], strings.Repeat("\x00garbage\xff", 99), 0o700}, // no records
			{ids[2], "", 0o700},                                    // empty
			{ids[3], raw, 0o600},                                   // never made ready: cleanup died
			{ids[4], sendmailQf, 0o700},                            // foreign
		}
	})
}

// TestEximCorruptQueueFiles: the same in exim-in's spool: a truncated -H,
// garbage, an empty -H, a -H without its -D, a sendmail qf as a -H.
func TestEximCorruptQueueFiles(t *testing.T) {
	r := eximRig(t)
	corruptMTA(t, r, func(good string) []badFile {
		id := strings.TrimSuffix(filepath.Base(good), "-H")
		h := readString(t, good)
		d := readString(t, strings.TrimSuffix(good, "-H")+"-D")
		ids := fakeIDs(id, 5, "VWXYZvwxyz")
		var files []badFile
		add := func(id, hdata string, withD bool) {
			files = append(files, badFile{"input/" + id + "-H", strings.Replace(hdata, id0(h), id+"-H", 1), 0o640})
			if withD {
				files = append(files, badFile{"input/" + id + "-D", strings.Replace(d, id0(d), id+"-D", 1), 0o640})
			}
		}
		add(ids[0], h[:len(h)/2], true)
		add(ids[1], strings.Repeat("\x00garbage\xff", 99), true)
		add(ids[2], "", true)
		add(ids[3], h, false)
		add(ids[4], sendmailQf, true)
		return files
	})
}

// id0 is the first line of an Exim spool file: its name.
func id0(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// fakeIDs makes n queue IDs of the same form as id that the MTA did not
// give out: id with its last two characters replaced by two of digits.
func fakeIDs(id string, n int, digits string) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		if f := id[:len(id)-2] + string(digits[i%len(digits)]) + string(digits[i/len(digits)]); f != id {
			ids = append(ids, f)
		}
	}
	return ids
}

// corruptMTA submits a good message, waits for the MTA to queue it, and
// puts the files bad(path of its control file) returns beside it, two hours
// old, with a foreign file "notes.txt"; then runs qscan once and flushes.
func corruptMTA(t *testing.T, r mtaRig, bad func(good string) []badFile) {
	r.clean(t)
	gen := stackutil.Message("corrupt", 1, r.name, false)
	r.submit(t, []stackutil.Msg{gen})
	var good string
	if r.name == "postfix" {
		es, _ := filepath.Glob(filepath.Join(r.incoming, "*"))
		for _, e := range es {
			if postfix.ValidID(filepath.Base(e)) {
				good = e
			}
		}
	} else {
		ids := stackutil.SpoolIDs(r.incoming)
		good = filepath.Join(r.incoming, "input", ids[0]+"-H")
	}
	st, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	files := bad(good)
	old := time.Now().Add(-2 * time.Hour)
	var controls []string // the bad messages' IDs
	for _, f := range append(files, badFile{"notes.txt", "not a queue file\n", 0o640}) {
		p := filepath.Join(r.incoming, f.name)
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, f.mode)
		if o, ok := st.Sys().(*syscall.Stat_t); ok {
			os.Chown(p, int(o.Uid), int(o.Gid)) // owned as the MTA's own files
		}
		os.Chtimes(p, old, old)
		if base := filepath.Base(f.name); !strings.HasSuffix(base, "-D") && base != "notes.txt" {
			controls = append(controls, strings.TrimSuffix(base, "-H"))
		}
	}
	root := t.TempDir()
	cfg := r.config(t, root)
	run := exec.Command(stackutil.Binary(t), "run", "--once", "-c", cfg)
	run.Env = r.qscanEnv()
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, id := range controls {
		found := false
		for _, l := range lines {
			if strings.Contains(l, id) && (strings.Contains(l, "action=set-aside") || strings.Contains(l, "set aside")) {
				found = true
			}
		}
		if !found {
			t.Errorf("no set-aside log line for %s", id)
		}
	}
	var rest []string
	for _, f := range r.incomingFiles() {
		if filepath.Base(f) != "notes.txt" {
			rest = append(rest, f)
		}
	}
	if len(rest) != 0 {
		t.Errorf("%s's incoming queue still holds %s", r.name, left(rest))
	}
	if got, err := os.ReadFile(filepath.Join(r.incoming, "notes.txt")); err != nil || string(got) != "not a queue file\n" {
		t.Errorf("the foreign notes.txt was touched: %q, %v", got, err)
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	got, err := stackutil.WaitSink(r.s.SinkDir, 1, time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkDelivered(t, []stackutil.Msg{gen}, got)
	if t.Failed() {
		t.Logf("qscan run --once:\n%s", out)
	}
	os.Remove(filepath.Join(r.incoming, "notes.txt"))
}
