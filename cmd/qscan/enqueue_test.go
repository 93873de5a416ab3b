package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// queued returns the qf and df files of dir.
func queued(t *testing.T, dir string) (qfs, dfs []string) {
	t.Helper()
	qfs, _ = filepath.Glob(filepath.Join(dir, "qf*"))
	dfs, _ = filepath.Glob(filepath.Join(dir, "df*"))
	return qfs, dfs
}

// TestEnqueueMboxFromLine: a message saved from a mailbox starts with the
// "From sender date" separator, which sendmail drops when it reads a
// message; enqueue drops it too instead of refusing the header.
func TestEnqueueMboxFromLine(t *testing.T) {
	dir := t.TempDir()
	for _, eol := range []string{"\n", "\r\n"} {
		q := filepath.Join(dir, "q"+strings.ReplaceAll(strings.ReplaceAll(eol, "\r", "r"), "\n", "n"))
		os.Mkdir(q, 0o700)
		msg := strings.ReplaceAll("From a@example.org Mon Jan  5 09:00:00 2026\nSubject: from mbox\nFrom: a@example.org\n\nbody\nFrom here on, a body line.\n", "\n", eol)
		file := filepath.Join(dir, "mbox.eml")
		if err := os.WriteFile(file, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := qscan(t, "enqueue", "-q", q, "-f", "a@example.org", "-r", "b@example.test", file)
		if code != exitOK {
			t.Fatalf("enqueue of an mbox-style file (eol %q) = %d %s", eol, code, out)
		}
		qfs, dfs := queued(t, q)
		if len(qfs) != 1 || len(dfs) != 1 {
			t.Fatalf("queued %v %v, want one message", qfs, dfs)
		}
		qf, _ := os.ReadFile(qfs[0])
		df, _ := os.ReadFile(dfs[0])
		if strings.Contains(string(qf), "From a@example.org Mon") || !strings.Contains(string(qf), "H??Subject: from mbox\n") {
			t.Errorf("qf:\n%s\nwant the Subject and no mbox separator", qf)
		}
		if want := "body\nFrom here on, a body line.\n"; string(df) != want {
			t.Errorf("df = %q, want %q", df, want)
		}
	}
}

// TestEnqueueGoesOnAfterBadFile: every file is tried; each failure is
// reported, and the exit status says that some failed.
func TestEnqueueGoesOnAfterBadFile(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "q")
	os.Mkdir(q, 0o700)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good1 := write("good1.eml", "Subject: one\n\nbody\n")
	bad := write("bad.eml", "this is not a header\n\nbody\n")
	missing := filepath.Join(dir, "missing.eml")
	good2 := write("good2.eml", "Subject: two\n\nbody\n")
	out, code := qscan(t, "enqueue", "-q", q, "-f", "a@example.org", "-r", "b@example.test", good1, bad, missing, good2)
	if code != exitFail {
		t.Errorf("exit = %d, want %d", code, exitFail)
	}
	for _, want := range []string{"qscan enqueue " + bad + ":", "qscan enqueue " + missing + ":", "2 of 4 files not queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if qfs, dfs := queued(t, q); len(qfs) != 2 || len(dfs) != 2 {
		t.Errorf("queued %v %v, want the two good messages", qfs, dfs)
	}
}

// TestEnqueueNestedQueue: in a queue with qf/ and df/ sub-directories (or
// only one of them) the files go where sendmail reads them.
func TestEnqueueNestedQueue(t *testing.T) {
	for _, subs := range [][]string{{"qf", "df", "xf"}, {"df"}, {"qf"}} {
		q := t.TempDir()
		for _, s := range subs {
			os.Mkdir(filepath.Join(q, s), 0o700)
		}
		out, code := qscan(t, "enqueue", "-q", q, "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml")
		id := strings.TrimSpace(out)
		if code != exitOK {
			t.Fatalf("enqueue = %d %s", code, out)
		}
		qfDir, dfDir := q, q
		for _, s := range subs {
			switch s {
			case "qf":
				qfDir = filepath.Join(q, "qf")
			case "df":
				dfDir = filepath.Join(q, "df")
			}
		}
		for _, p := range []string{filepath.Join(qfDir, "qf"+id), filepath.Join(dfDir, "df"+id)} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("sub-directories %q: %v", subs, err)
			}
		}
	}
}
