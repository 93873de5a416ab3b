package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

// quarDemo lays out a demo tree whose outgoing sendmail is a script that
// records its arguments, and quarantines the pkg/quarantine test message
// three times: an hour ago (indexed), 40 days ago, and an entry without
// metadata. It returns the config and the three ids.
func quarDemo(t *testing.T) (root, cfg string, fresh, old, broken string) {
	t.Helper()
	root, cfg = demo(t, "[headers]\norg_name = \"Test\"\n")
	kick := filepath.Join(root, "sendmail.sh")
	os.WriteFile(kick, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > \""+root+"/kick.args\"\n"), 0o700)
	b, _ := os.ReadFile(cfg)
	b = []byte(strings.Replace(string(b), "[queue]\n", "[queue]\nkick = true\nsendmail = \""+kick+"\"\nsendmail_args = [\"-C\", \"out.cf\"]\n", 1))
	os.WriteFile(cfg, b, 0o600)

	qf, err := os.ReadFile("../../pkg/quarantine/testdata/multi.qf")
	if err != nil {
		t.Fatal(err)
	}
	df, _ := os.ReadFile("../../pkg/quarantine/testdata/multi.df")
	os.MkdirAll(filepath.Join(root, "work"), 0o700)
	st, err := store.Open(filepath.Join(root, "work", "qscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := &quarantine.Quarantine{Dir: filepath.Join(root, "quarantine"), Index: st.QuarantineIndex()}
	add := func(qid string, at time.Time, subject string) string {
		dir, err := q.Store(quarantine.Item{
			Entry: quarantine.Entry{QueueID: qid, Time: at, Sender: "alice@sender.example",
				Recipients: []string{"bob@example.test", "Carol@Example.Test", "dave@other.example"},
				Subject:    subject, Reason: "Eicar-Test-Signature found", Whole: true},
			Qf: qf, Df: df,
		})
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
	}
	now := time.Now()
	fresh = add("6AO1YNQ5022619", now.Add(-time.Hour), "=?UTF-8?Q?caf=C3=A9?= \x1b[31mred\x1b[0m \u202Eevil")
	old = add("6AO1YNQ5022620", now.AddDate(0, 0, -40), "old")
	broken = add("6AO1YNQ5022621", now.Add(-2*time.Hour), "broken")
	os.Remove(filepath.Join(root, "quarantine", broken, "metadata.json"))
	os.Chtimes(filepath.Join(root, "quarantine", broken), now.Add(-2*time.Hour), now.Add(-2*time.Hour))
	return root, cfg, fresh, old, broken
}

// quarWired fails the test with a clear message when main.go does not
// route "quarantine" to cmdQuarantine yet.
func quarWired(t *testing.T) {
	t.Helper()
	if out, _ := qscan(t, "quarantine"); !strings.Contains(out, "qscan quarantine <command>") {
		t.Fatalf("`qscan quarantine` is not wired in main.go's command table: %q", out)
	}
}

func TestQuarantineListShow(t *testing.T) {
	quarWired(t)
	_, cfg, fresh, old, broken := quarDemo(t)
	out, code := qscan(t, "quarantine", "list", "-c", cfg)
	if code != exitOK {
		t.Fatalf("list = %d %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("list printed %d lines, want a header and 3 entries:\n%s", len(lines), out)
	}
	if strings.ContainsAny(out, "\x1b\u202E") {
		t.Errorf("list prints control characters from the message: %q", out)
	}
	for _, want := range []string{fresh, old, broken, "café", "incomplete", "whole", "Eicar-Test-Signature found", "bob@example.test +2"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output has no %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(lines[1], fresh) || !strings.HasPrefix(lines[3], old) {
		t.Errorf("list is not newest first:\n%s", out)
	}

	out, code = qscan(t, "quarantine", "list", "--json", "-c", cfg, "--since", "24h")
	if code != exitOK {
		t.Fatalf("list --json = %d %q", code, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			ID         string `json:"id"`
			Dir        string `json:"dir"`
			Incomplete bool   `json:"incomplete"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("list --json line %q: %v", l, err)
		}
		if e.Dir == "" || e.Incomplete != (e.ID == broken) {
			t.Errorf("list --json entry %+v", e)
		}
		got = append(got, e.ID)
	}
	if want := []string{fresh, broken}; !slices.Equal(got, want) { // the incomplete one by its directory's time
		t.Errorf("list --since 24h = %v, want %v", got, want)
	}

	out, code = qscan(t, "quarantine", "show", "-c", cfg, fresh)
	if code != exitOK {
		t.Fatalf("show = %d %q", code, out)
	}
	for _, want := range []string{"id:          " + fresh, "reason:      Eicar-Test-Signature found", "<Carol@Example.Test>", "files:", "720  qf6AO1YNQ5022619", "metadata.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("show output has no %q:\n%s", want, out)
		}
	}
	if out, code := qscan(t, "quarantine", "show", "-c", cfg, broken); code != exitOK || !strings.Contains(out, "cannot be released") {
		t.Errorf("show of an incomplete entry = %d %q", code, out)
	}
	if out, code := qscan(t, "quarantine", "show", "-c", cfg, "20261122/../../etc"); code != exitUsage {
		t.Errorf("show of a hostile id = %d %q, want %d", code, out, exitUsage)
	}
	if out, code := qscan(t, "quarantine", "show", "-c", cfg, "20000101/NONE"); code != exitFail {
		t.Errorf("show of a missing entry = %d %q, want %d", code, out, exitFail)
	}
}

func TestQuarantineRelease(t *testing.T) {
	quarWired(t)
	root, cfg, fresh, _, broken := quarDemo(t)
	outDir := filepath.Join(root, "out")
	out, logged, code := qscanSplit(t, "quarantine", "release", "-c", cfg, fresh, "--to", "admin@example.test") // the log line goes to stderr
	if code != exitOK {
		t.Fatalf("release = %d %q %q", code, out, logged)
	}
	id := strings.TrimSpace(out)
	if !sendmail.ValidID(id) {
		t.Fatalf("release printed %q, want a queue id", out)
	}
	f, err := os.Open(filepath.Join(outDir, sendmail.QfName(id)))
	if err != nil {
		t.Fatal(err)
	}
	qf, err := sendmail.ParseQf(f, sendmail.Limits{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rs := qf.Recipients(); len(rs) != 1 || rs[0].Addr != "admin@example.test" {
		t.Errorf("released recipients = %+v, want admin@example.test only", rs)
	}
	if _, ok := qf.Header("X-Test-QScan-Released"); !ok {
		t.Error("released qf has no X-Test-QScan-Released header")
	}
	if _, err := os.Stat(filepath.Join(outDir, sendmail.DfName(id))); err != nil {
		t.Error(err)
	}
	kick, _ := os.ReadFile(filepath.Join(root, "kick.args"))
	if want := "-C\nout.cf\n-OQueueDirectory=" + outDir + "\n-qI" + id + "\n"; string(kick) != want {
		t.Errorf("kick arguments = %q, want %q", kick, want)
	}

	// Without --to: the original recipients.
	out, _, code = qscanSplit(t, "quarantine", "release", "-c", cfg, fresh)
	if code != exitOK {
		t.Fatalf("second release = %d %q", code, out)
	}
	f, _ = os.Open(filepath.Join(outDir, sendmail.QfName(strings.TrimSpace(out))))
	qf, err = sendmail.ParseQf(f, sendmail.Limits{})
	f.Close()
	if err != nil || len(qf.Recipients()) != 3 {
		t.Errorf("release without --to: %v, recipients %+v", err, qf.Recipients())
	}

	// The files and the index both show the releases.
	out, _ = qscan(t, "quarantine", "list", "-c", cfg)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, fresh) && f[len(f)-1] == "-" {
			t.Errorf("list does not show the release:\n%s", out)
		}
	}
	out, code = qscan(t, "quarantine", "list", "--index", "--json", "-c", cfg)
	if code != exitOK || !strings.Contains(out, `"released":[{"time"`) {
		t.Errorf("list --index after release = %d %q", code, out)
	}

	before, _ := os.ReadDir(outDir)
	for _, args := range [][]string{{broken}, {fresh, "--to", "a@b>\nRP:<evil@x"}, {"../x"}} {
		if out, code := qscan(t, append([]string{"quarantine", "release", "-c", cfg}, args...)...); code == exitOK {
			t.Errorf("release %q = %d %q, want a failure", args, code, out)
		}
	}
	if after, _ := os.ReadDir(outDir); len(after) != len(before) {
		t.Errorf("refused releases wrote into the outgoing queue: %d files, had %d", len(after), len(before))
	}
}

func TestQuarantineDeletePurge(t *testing.T) {
	quarWired(t)
	root, cfg, fresh, old, broken := quarDemo(t)
	if out, code := qscan(t, "quarantine", "delete", "-c", cfg, broken); code != exitOK || !strings.Contains(out, "deleted "+broken) {
		t.Errorf("delete = %d %q", code, out)
	}
	if out, code := qscan(t, "quarantine", "delete", "-c", cfg, broken); code != exitFail {
		t.Errorf("second delete = %d %q, want %d", code, out, exitFail)
	}
	out, code := qscan(t, "quarantine", "purge", "-c", cfg, "--older-than", "30d")
	if code != exitOK || !strings.Contains(out, "purged 1 entries") {
		t.Errorf("purge = %d %q", code, out)
	}
	for id, want := range map[string]bool{fresh: true, old: false, broken: false} {
		_, err := os.Stat(filepath.Join(root, "quarantine", id))
		if (err == nil) != want {
			t.Errorf("after purge %s exists = %v, want %v", id, err == nil, want)
		}
	}
	if out, _ := qscan(t, "quarantine", "list", "--index", "-c", cfg); strings.Contains(out, old) || !strings.Contains(out, fresh) {
		t.Errorf("index after purge:\n%s", out)
	}
}

func TestQuarantineUsage(t *testing.T) {
	quarWired(t)
	_, cfg := demo(t, "")
	for _, args := range [][]string{
		{"quarantine"},
		{"quarantine", "bogus"},
		{"quarantine", "list", "extra"},
		{"quarantine", "list", "-c", cfg, "--since", "yesterday"},
		{"quarantine", "show", "-c", cfg},
		{"quarantine", "release", "-c", cfg},
		{"quarantine", "purge", "-c", cfg},
		{"quarantine", "purge", "-c", cfg, "--older-than", "0d"},
		{"quarantine", "purge", "-c", cfg, "--older-than", "-5h"},
	} {
		if out, code := qscan(t, args...); code != exitUsage {
			t.Errorf("qscan %q = %d %q, want %d", args, code, out, exitUsage)
		}
	}
	if out, code := qscan(t, "quarantine", "list", "-c", filepath.Join(t.TempDir(), "none.toml")); code != exitConfig {
		t.Errorf("list with a missing config = %d %q, want %d", code, out, exitConfig)
	}
}

func TestQuarClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"a\x1b[31mb", 10, "a [31mb"},
		{"tab\tand\r\nnewline", 20, "tab and newline"},
		{"  lead", 10, "lead"},
		{"\u202Egnp.exe", 10, "gnp.exe"},
		{"bad\xffutf8", 10, "bad utf8"},
		{"0123456789abc", 10, "0123456789..."},
		{"0123456789", 10, "0123456789"},
		{"ééééé", 3, "ééé..."},
	}
	for _, tt := range tests {
		if got := quarClean(tt.in, tt.max); got != tt.want {
			t.Errorf("quarClean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestQuarAgeSince(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := quarAge(in); err != nil || got != want {
			t.Errorf("quarAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "d", "1.5d", "30x", "0s", "-3h", "99999999d"} {
		if got, err := quarAge(in); err == nil {
			t.Errorf("quarAge(%q) = %v, want an error", in, got)
		}
	}
	if got, err := quarSince("24h", now); err != nil || !got.Equal(now.Add(-24*time.Hour)) {
		t.Errorf("quarSince(24h) = %v, %v", got, err)
	}
	if got, err := quarSince("2026-11-01", now); err != nil || got.Format("2006-01-02 15:04") != "2026-11-01 00:00" {
		t.Errorf("quarSince(2026-11-01) = %v, %v", got, err)
	}
	if got, err := quarSince("", now); err != nil || !got.IsZero() {
		t.Errorf("quarSince(\"\") = %v, %v", got, err)
	}
}

// FuzzQuarClean checks that text from a message can never put a control
// or format character on the operator's terminal, nor exceed its bound.
func FuzzQuarClean(f *testing.F) {
	for _, s := range []string{"plain", "a\x1b]0;title\x07b", "\u202Egnp.exe", "bad\xff\xfe", "=?UTF-8?Q?=1B=5B31m?="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, in := range []string{s, quarDecode(s)} {
			got := quarClean(in, 20)
			if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 23 {
				t.Fatalf("quarClean(%q) = %q: invalid or too long", in, got)
			}
			for _, r := range got {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
					t.Fatalf("quarClean(%q) = %q keeps %U", in, got, r)
				}
			}
		}
	})
}

// TestQuarantineReleaseBadAddress: a malformed --to is refused with a
// sentence and the usage exit code before anything is done: nothing in
// the outgoing queue, no release recorded, no kick.
func TestQuarantineReleaseBadAddress(t *testing.T) {
	quarWired(t)
	root, cfg, fresh, _, _ := quarDemo(t)
	meta := filepath.Join(root, "quarantine", fresh, "metadata.json")
	before, _ := os.ReadFile(meta)
	for _, addr := range []string{"bob", "not an address", "a b@example.test", "@example.test", "bob@",
		"bob@exa mple.test", "a@example.test,c@example.test", "bob@example..test", "bob@-x.test",
		`"bob"@example.test`, "bob@example.test>", "b\x1bob@example.test", "bob.@example.test"} {
		out, code := qscan(t, "quarantine", "release", "-c", cfg, fresh, "--to", "ok@example.test", "--to", addr)
		if code != exitUsage || !strings.Contains(out, "is not a mail address") {
			t.Errorf("release --to %q = %d %q, want %d and a sentence", addr, code, out, exitUsage)
		}
	}
	if des, _ := os.ReadDir(filepath.Join(root, "out")); len(des) != 0 {
		t.Errorf("refused releases wrote %d files into the outgoing queue", len(des))
	}
	if after, _ := os.ReadFile(meta); string(after) != string(before) {
		t.Errorf("a refused release was recorded:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(root, "kick.args")); err == nil {
		t.Error("a refused release ran the kick")
	}
	for _, addr := range []string{"admin@example.test", "<admin@example.test>", "root@localhost", "a.b+c_d-e@sub.example-1.test"} {
		if out, code := qscan(t, "quarantine", "release", "-c", cfg, fresh, "--to", addr); code != exitOK {
			t.Errorf("release --to %q = %d %q, want it accepted", addr, code, out)
		}
	}
}

// TestQuarantineListIndexKind: `list --index` shows the kind the files
// show (the demo's entries are whole messages), not "parts" for all.
func TestQuarantineListIndexKind(t *testing.T) {
	quarWired(t)
	_, cfg, fresh, _, _ := quarDemo(t)
	for _, args := range [][]string{{"list"}, {"list", "--index"}} {
		out, code := qscan(t, append([]string{"quarantine"}, append(args, "-c", cfg)...)...)
		if code != exitOK {
			t.Fatalf("%v = %d %q", args, code, out)
		}
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, fresh+" ") {
				found = true
				if f := strings.Fields(l); !slices.Contains(f, "whole") || slices.Contains(f, "parts") {
					t.Errorf("%v shows %s as not whole:\n%s", args, fresh, out)
				}
			}
		}
		if !found {
			t.Errorf("%v does not show %s:\n%s", args, fresh, out)
		}
	}
}
