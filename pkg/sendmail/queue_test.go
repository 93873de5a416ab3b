package sendmail

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// touch writes a test file (tests only: the library never writes queues)
// and sets its modification time.
func touch(t *testing.T, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestListFlat(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	touch(t, filepath.Join(dir, "qfB"), "qf-b", t0.Add(2*time.Minute))
	touch(t, filepath.Join(dir, "dfB"), "body", t0)
	touch(t, filepath.Join(dir, "qfA"), "qf-a", t0.Add(2*time.Minute)) // same time: by ID
	touch(t, filepath.Join(dir, "dfA"), "bo", t0)
	touch(t, filepath.Join(dir, "qfOld"), "qf", t0) // no df
	touch(t, filepath.Join(dir, "qfEmpty"), "", t0)
	for _, n := range []string{"tfC", "xfB", "QfD", "hfE", "dfF", "qf", "qfa.b", "qf-x y", ".qfG", "core"} {
		touch(t, filepath.Join(dir, n), "x", t0)
	}
	if err := os.Mkdir(filepath.Join(dir, "qfDir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "qfA"), filepath.Join(dir, "qfLink")); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(dir, "qfSymDf"), "qf", t0.Add(3*time.Minute))
	if err := os.Symlink(filepath.Join(dir, "dfA"), filepath.Join(dir, "dfSymDf")); err != nil {
		t.Fatal(err)
	}

	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{ID: "Empty", ModTime: t0, Empty: true},
		{ID: "Old", ModTime: t0, Size: 2, DfMissing: true},
		{ID: "A", ModTime: t0.Add(2 * time.Minute), Size: 6},
		{ID: "B", ModTime: t0.Add(2 * time.Minute), Size: 8},
		{ID: "SymDf", ModTime: t0.Add(3 * time.Minute), Size: 2, DfMissing: true},
	}
	if len(got) != len(want) {
		t.Fatalf("List = %+v, want IDs Empty, Old, A, B, SymDf", got)
	}
	for i, w := range want {
		w.QfPath, w.DfPath = filepath.Join(dir, "qf"+w.ID), filepath.Join(dir, "df"+w.ID)
		g := got[i]
		if g.ID != w.ID || g.QfPath != w.QfPath || g.DfPath != w.DfPath || !g.ModTime.Equal(w.ModTime) ||
			g.Size != w.Size || g.DfMissing != w.DfMissing || g.Empty != w.Empty {
			t.Errorf("List()[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestListNested(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"qf", "df", "xf"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	touch(t, filepath.Join(dir, "qf", "qfN1"), "qf", t0)
	touch(t, filepath.Join(dir, "df", "dfN1"), "body", t0)
	touch(t, filepath.Join(dir, "qfStray"), "qf", t0) // top level is not looked at
	q, err := OpenQueue(dir)
	if err != nil || !q.Nested {
		t.Fatalf("OpenQueue = %+v, %v; want nested", q, err)
	}
	got, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "N1" || got[0].DfPath != filepath.Join(dir, "df", "dfN1") ||
		got[0].QfPath != filepath.Join(dir, "qf", "qfN1") || got[0].Size != 6 || got[0].DfMissing {
		t.Errorf("List = %+v, want N1 in qf/ and df/", got)
	}
	if p := q.TfPath("N1"); p != filepath.Join(dir, "qf", "tfN1") {
		t.Errorf("TfPath = %q", p)
	}
}

func TestListErrors(t *testing.T) {
	if _, err := List(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("List(missing dir) succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	touch(t, f, "x", time.Now())
	if _, err := List(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("List(file) = %v, want not a directory", err)
	}
}

func TestNames(t *testing.T) {
	q := Queue{Dir: "/q"}
	if q.QfPath("X1") != "/q/qfX1" || q.DfPath("X1") != "/q/dfX1" || q.TfPath("X1") != "/q/tfX1" || XfName("X1") != "xfX1" {
		t.Errorf("flat paths: %s %s %s", q.QfPath("X1"), q.DfPath("X1"), q.TfPath("X1"))
	}
}

func TestWriteDf(t *testing.T) {
	body := "line\r\n.\r\nbinary \x00\xff\n"
	var w bytes.Buffer
	n, err := WriteDf(&w, strings.NewReader(body))
	if err != nil || n != int64(len(body)) || w.String() != body {
		t.Errorf("WriteDf = %d, %v, %q; want the body unchanged", n, err, w.String())
	}
}

// TestOpenQueueLayouts: sendmail looks at each sub-directory on its own
// (queue.c, multiqueue_cache: qf/ holds qf and tf files, df/ the df files,
// xf/ the transcripts), so a queue with only one of them is half nested.
func TestOpenQueueLayouts(t *testing.T) {
	tests := []struct {
		subs           []string
		qf, df, nested bool // qf/tf in qf/, df in df/
	}{
		{nil, false, false, false},
		{[]string{"qf", "df", "xf"}, true, true, true},
		{[]string{"qf", "df"}, true, true, true},
		{[]string{"qf"}, true, false, false},
		{[]string{"df", "xf"}, false, true, false},
		{[]string{"xf"}, false, false, false},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, sub := range tt.subs {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		q, err := OpenQueue(dir)
		if err != nil {
			t.Fatal(err)
		}
		in := func(sub string, yes bool) string {
			if yes {
				return filepath.Join(dir, sub)
			}
			return dir
		}
		if q.Nested != tt.nested || filepath.Dir(q.QfPath("X1")) != in("qf", tt.qf) || filepath.Dir(q.TfPath("X1")) != in("qf", tt.qf) ||
			filepath.Dir(q.DfPath("X1")) != in("df", tt.df) {
			t.Errorf("sub-directories %q: OpenQueue = %+v: qf %s, tf %s, df %s", tt.subs, q, q.QfPath("X1"), q.TfPath("X1"), q.DfPath("X1"))
		}
		if got, want := q.Dirs(), slices.Compact([]string{in("qf", tt.qf), in("df", tt.df)}); !slices.Equal(got, want) {
			t.Errorf("sub-directories %q: Dirs() = %q, want %q", tt.subs, got, want)
		}
	}
}
