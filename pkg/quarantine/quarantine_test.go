package quarantine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	now := time.Date(2026, 11, 22, 8, 7, 6, 0, time.UTC)
	it := Item{
		Entry: Entry{QueueID: "6AM876nc005638", Time: now, Sender: "a@b", Recipients: []string{"c@d"}, Reason: "test", Whole: true,
			Parts: []Part{{Filename: "../../etc/passwd", Report: "blocked"}}},
		Qf: []byte("V8\n.\n"), Df: []byte("body\n"), Header: []byte("Subject: x\n"),
		Data: [][]byte{[]byte("MZ")},
	}
	dir, err := q.Store(it)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(q.Dir, "20261122", "6AM876nc005638"); dir != want {
		t.Errorf("Store dir = %s, want %s", dir, want)
	}
	eml, _ := os.ReadFile(filepath.Join(dir, "message.eml"))
	if string(eml) != "Subject: x\n\nbody\n" {
		t.Errorf("message.eml = %q", eml)
	}
	part, _ := os.ReadFile(filepath.Join(dir, "part-1"))
	if string(part) != "MZ" {
		t.Errorf("part-1 = %q (the part must be stored under a generated name)", part)
	}
	var meta Entry
	b, _ := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.ID != "20261122/6AM876nc005638" || meta.Parts[0].File != "part-1" || len(meta.Files) != 4 {
		t.Errorf("metadata = %+v", meta)
	}
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", p, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "metadata.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("metadata.json mode %v, want 0600", st.Mode().Perm())
	}
	// Same id again the same day, another message: a second entry, the
	// first kept.
	other := it
	other.Df = []byte("other body\n")
	dir2, err := q.Store(other)
	if err != nil || filepath.Base(dir2) != "6AM876nc005638.2" {
		t.Errorf("second Store = %s, %v", dir2, err)
	}
	if _, err := q.Store(Item{Entry: Entry{QueueID: "../x", Time: now}}); err == nil {
		t.Error("Store with a path in the queue id: no error")
	}
}

// TestStageCrash: what a crash leaves at each step of Stage and Publish
// gives one entry per message: a staged entry is invisible until
// published, publishing again is harmless, and the same message staged
// again after a crash that followed its Publish is not a second entry.
func TestStageCrash(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	now := time.Date(2026, 11, 22, 8, 7, 6, 0, time.UTC)
	it := Item{Entry: Entry{QueueID: "6AM876nc005638", Time: now, Reason: "virus", Whole: true},
		Qf: []byte("V8\n.\n"), Df: []byte("body\n"), Header: []byte("Subject: x\n")}
	staged, want, err := q.Stage(it)
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := q.List(time.Time{}); len(es) != 0 {
		t.Errorf("List sees a staged entry: %+v", es)
	}
	if st, _ := q.StagedEntries(); len(st) != 1 || st[0].Dir != staged || st[0].QueueID != it.QueueID {
		t.Errorf("StagedEntries = %+v, want %s", st, staged)
	}
	dir, err := q.Publish(staged)
	if err != nil || dir != want {
		t.Fatalf("Publish = %s, %v, want %s", dir, err, want)
	}
	if again, err := q.Publish(staged); err != nil || again != dir {
		t.Errorf("Publish again = %s, %v, want %s", again, err, dir)
	}
	// The same message once more (a crash before it left its queue).
	staged2, _, err := q.Stage(it)
	if err != nil {
		t.Fatal(err)
	}
	if dir2, err := q.Publish(staged2); err != nil || dir2 != dir {
		t.Errorf("Publish of the same message = %s, %v, want the entry %s", dir2, err, dir)
	}
	// Staged, then given up (its batch was not committed).
	staged3, _, err := q.Stage(it)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Discard(staged3); err != nil {
		t.Fatal(err)
	}
	if err := q.Discard(dir); err == nil {
		t.Error("Discard removed a published entry")
	}
	es, _ := q.List(time.Time{})
	if len(es) != 1 || es[0].Dir != dir {
		t.Errorf("List = %+v, want one entry", es)
	}
	if st, _ := q.StagedEntries(); len(st) != 0 {
		t.Errorf("staged entries left: %+v", st)
	}
}
