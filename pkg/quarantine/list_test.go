package quarantine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// memIndex records what the quarantine tells its index; fail makes every
// call fail after recording it.
type memIndex struct {
	added, removed []string
	released       map[string]time.Time
	fail           error
}

func (m *memIndex) Add(e Entry) error { m.added = append(m.added, e.ID); return m.fail }
func (m *memIndex) Remove(id string) error {
	m.removed = append(m.removed, id)
	return m.fail
}
func (m *memIndex) MarkReleased(id string, t time.Time) error {
	if m.released == nil {
		m.released = map[string]time.Time{}
	}
	m.released[id] = t
	return m.fail
}

var _ Index = (*memIndex)(nil)

// store quarantines the testdata queue entry under queue id qid at t and
// returns the entry id.
func store(t *testing.T, q *Quarantine, qid string, at time.Time) string {
	t.Helper()
	df, err := os.ReadFile("testdata/multi.df")
	if err != nil {
		t.Fatal(err)
	}
	return storeDf(t, q, qid, at, df)
}

// storeDf is store with another body.
func storeDf(t *testing.T, q *Quarantine, qid string, at time.Time, df []byte) string {
	t.Helper()
	qf, err := os.ReadFile("testdata/multi.qf")
	if err != nil {
		t.Fatal(err)
	}
	it := Item{
		Entry: Entry{QueueID: qid, Time: at, Sender: "alice@sender.example",
			Recipients: []string{"bob@example.test", "Carol@Example.Test", "dave@other.example"},
			Subject:    "three recipients", Reason: "Eicar-Test-Signature", Whole: true},
		Qf: qf, Df: df, Header: []byte("Subject: three recipients\n"),
	}
	dir, err := q.Store(it)
	if err != nil {
		t.Fatalf("Store(%s): %v", qid, err)
	}
	return filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"20261122/6AM876nc005638", true},
		{"20261122/6AM876nc005638.2", true},
		{"20261122/a_b-C9.999", true},
		{"", false},
		{"../x", false},
		{"20261122/../../etc", false},
		{"20261122/..", false},
		{"20261122/.", false},
		{"20261122/", false},
		{"20261122", false},
		{"/20261122/x", false},
		{"2026112/x", false},
		{"202611222/x", false},
		{"2026112a/x", false},
		{"２0261122/x", false},
		{"20261122/x/y", false},
		{"20261122/x/../y", false},
		{"20261122\\x", false},
		{"20261122/x.", false},
		{"20261122/x.2.3", false},
		{"20261122/x.a", false},
		{"20261122/x.12345", false},
		{"20261122/.x", false},
		{"20261122/x\x00", false},
		{"20261122/x y", false},
		{"20261122/x\n", false},
		{"20261122/" + strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestHostileIDs checks that no operation takes an id outside the rules,
// even when the path it would name exists.
func TestHostileIDs(t *testing.T) {
	root := t.TempDir()
	q := &Quarantine{Dir: filepath.Join(root, "quarantine")}
	os.MkdirAll(filepath.Join(root, "etc"), 0o700)
	os.WriteFile(filepath.Join(root, "etc", "metadata.json"), []byte(`{"id":"x"}`), 0o600)
	store(t, q, "AAA", time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC))
	out := t.TempDir()
	for _, id := range []string{"../etc", "20261122/../../etc", "20261122/..", "20261122/../20261122/AAA", "20261122/AAA/..", "20261122//AAA"} {
		if _, err := q.Get(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Get(%q) error = %v, want ErrBadID", id, err)
		}
		if err := q.Delete(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Delete(%q) error = %v, want ErrBadID", id, err)
		}
		if _, err := q.Release(id, releaseOpts(out, nil)); !errors.Is(err, ErrBadID) {
			t.Errorf("Release(%q) error = %v, want ErrBadID", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "metadata.json")); err != nil {
		t.Errorf("a file outside the quarantine was touched: %v", err)
	}
}

func TestList(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir(), MaxMetadataBytes: 4096}
	d1 := time.Date(2026, 11, 21, 23, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	a := store(t, q, "AAA", d1)
	b := store(t, q, "BBB", d2)
	c := store(t, q, "CCC", d2.Add(time.Hour))
	b2 := storeDf(t, q, "BBB", d2.Add(2*time.Hour), []byte("another body\n")) // same queue id, another message: BBB.2

	// Hostile or broken things in the tree.
	day := filepath.Join(q.Dir, "20261122")
	os.Mkdir(filepath.Join(day, "NOMETA"), 0o700)
	os.Mkdir(filepath.Join(day, "BIGMETA"), 0o700)
	os.WriteFile(filepath.Join(day, "BIGMETA", "metadata.json"), []byte(`{"id":"`+strings.Repeat("x", 5000)+`"}`), 0o600)
	os.Mkdir(filepath.Join(day, "BADMETA"), 0o700)
	os.WriteFile(filepath.Join(day, "BADMETA", "metadata.json"), []byte(`{"id":`), 0o600)
	os.Mkdir(filepath.Join(day, "LIAR"), 0o700)
	os.WriteFile(filepath.Join(day, "LIAR", "metadata.json"), []byte(`{"id":"../../etc","queue_id":"LIAR","time":"2026-11-22T00:30:00Z"}`), 0o600)
	os.Symlink(filepath.Join(q.Dir, "20261121", "AAA"), filepath.Join(day, "LINK"))
	os.WriteFile(filepath.Join(day, "FILE"), nil, 0o600)
	os.Mkdir(filepath.Join(day, "bad name"), 0o700)
	os.Mkdir(filepath.Join(q.Dir, "lost+found"), 0o700)
	os.Mkdir(filepath.Join(q.Dir, "20261399"), 0o700)

	all, err := q.List(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range all {
		got[e.ID] = e
	}
	for _, id := range []string{"20261122/NOMETA", "20261122/BIGMETA", "20261122/BADMETA"} {
		if e, ok := got[id]; !ok || !e.Incomplete || e.Warning == "" {
			t.Errorf("List: %s = %+v, want an incomplete entry with a warning", id, e)
		}
	}
	if e := got["20261122/LIAR"]; e.Incomplete || e.ID != "20261122/LIAR" {
		t.Errorf("List: LIAR = %+v, want the id of its directory", e)
	}
	for _, id := range []string{"20261122/LINK", "20261122/FILE", "20261122/bad name"} {
		if _, ok := got[id]; ok {
			t.Errorf("List includes %s", id)
		}
	}
	// Complete entries newest first, days newest first.
	var complete []string
	for _, e := range all {
		if !e.Incomplete && e.ID != "20261122/LIAR" {
			complete = append(complete, e.ID)
		}
	}
	if want := []string{b2, c, b, a}; !slices.Equal(complete, want) {
		t.Errorf("List order = %v, want %v", complete, want)
	}
	if all[len(all)-1].ID != a {
		t.Errorf("List: last = %s, want the older day's %s", all[len(all)-1].ID, a)
	}
	if e := got[b2]; e.QueueID != "BBB" || e.Dir != filepath.Join(day, "BBB.2") || len(e.Recipients) != 3 {
		t.Errorf("List: %s = %+v", b2, e)
	}

	since, err := q.List(d2.Add(30 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range since {
		if e.Time.Before(d2.Add(30 * time.Minute)) {
			t.Errorf("List(since) includes %s of %v", e.ID, e.Time)
		}
	}
	if !slices.Contains(ids(since), c) || !slices.Contains(ids(since), b2) || slices.Contains(ids(since), b) || slices.Contains(ids(since), a) {
		t.Errorf("List(since) = %v, want %s and %s only among the complete ones", ids(since), b2, c)
	}
}

func TestListTruncated(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir(), MaxList: 2}
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for i, id := range []string{"A", "B", "C"} {
		store(t, q, id, at.Add(time.Duration(i)*time.Minute))
	}
	es, err := q.List(time.Time{})
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("List error = %v, want ErrTruncated", err)
	}
	if want := []string{"20261122/C", "20261122/B"}; !slices.Equal(ids(es), want) {
		t.Errorf("List = %v, want the newest %v", ids(es), want)
	}
}

func TestListMissingDir(t *testing.T) {
	q := &Quarantine{Dir: filepath.Join(t.TempDir(), "none")}
	if _, err := q.List(time.Time{}); err == nil {
		t.Error("List of a missing directory: no error")
	}
}

func TestGetAndFiles(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	e, err := q.Get(id)
	if err != nil || e.Incomplete || e.Reason != "Eicar-Test-Signature" || e.ID != id {
		t.Errorf("Get(%s) = %+v, %v", id, e, err)
	}
	if _, err := q.Get("20261122/NONE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a missing entry error = %v, want ErrNotFound", err)
	}
	os.Symlink(filepath.Join(q.Dir, "20261122", "AAA"), filepath.Join(q.Dir, "20261122", "LINK"))
	if _, err := q.Get("20261122/LINK"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a symbolic link error = %v, want ErrNotFound", err)
	}
	os.Rename(filepath.Join(q.Dir, "20261122", "AAA", "metadata.json"), filepath.Join(t.TempDir(), "m"))
	os.Symlink("/etc/passwd", filepath.Join(q.Dir, "20261122", "AAA", "metadata.json"))
	if e, err := q.Get(id); err != nil || !e.Incomplete {
		t.Errorf("Get with metadata.json a symbolic link = %+v, %v; want incomplete", e, err)
	}
	files, err := q.Files(id)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	for _, f := range files {
		sizes[f.Name] = f.Size
	}
	if sizes["dfAAA"] != 6 || sizes["qfAAA"] != 720 {
		t.Errorf("Files(%s) = %+v", id, files)
	}
}

func TestStoreIndex(t *testing.T) {
	idx := &memIndex{}
	q := &Quarantine{Dir: t.TempDir(), Index: idx}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	if !slices.Equal(idx.added, []string{id}) {
		t.Errorf("index added %v, want [%s]", idx.added, id)
	}
	idx.fail = errors.New("disk full")
	dir, err := q.Store(Item{Entry: Entry{QueueID: "BBB", Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}})
	if !errors.Is(err, ErrIndex) {
		t.Errorf("Store with a failing index error = %v, want ErrIndex", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "metadata.json")); err != nil {
		t.Errorf("an index failure undid the stored entry: %v", err)
	}
}
