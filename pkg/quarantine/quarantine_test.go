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
	// Same id again the same day: a second entry, the first kept.
	dir2, err := q.Store(it)
	if err != nil || filepath.Base(dir2) != "6AM876nc005638.2" {
		t.Errorf("second Store = %s, %v", dir2, err)
	}
	if _, err := q.Store(Item{Entry: Entry{QueueID: "../x", Time: now}}); err == nil {
		t.Error("Store with a path in the queue id: no error")
	}
}
