package quarantine

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidID checks that an accepted id always names a directory two
// levels below the quarantine directory, never anything else.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"20261122/6AM876nc005638", "20261122/A.2", "../x", "20261122/../../etc", "20261122/.", "20261122//x"} {
		f.Add(s)
	}
	q := &Quarantine{Dir: "/q"}
	f.Fuzz(func(t *testing.T, id string) {
		p, err := q.Path(id)
		if ValidID(id) != (err == nil) {
			t.Fatalf("ValidID(%q) = %v but Path error = %v", id, ValidID(id), err)
		}
		if err != nil {
			return
		}
		rel, err := filepath.Rel("/q", p)
		if err != nil || rel != id || filepath.Clean(p) != p || strings.Count(rel, "/") != 1 || strings.Contains(rel, "..") {
			t.Fatalf("Path(%q) = %q: not one entry below the quarantine", id, p)
		}
	})
}

// FuzzParseEntry feeds metadata.json bytes: never a panic, the bound
// holds, and what parses writes back to something that parses the same.
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(`{"id":"20261122/A","queue_id":"A","time":"2026-11-22T08:07:06Z","sender":"a@b","recipients":["c@d"],"reason":"x","whole":true,"files":["qfA"],"released":[{"time":"2026-11-23T00:00:00Z","to":["e@f"],"queue_id":"B"}]}`))
	f.Add([]byte(`{"id":"../../etc","incomplete":true,"warning":"x","parts":[{"file":"part-1","filename":"../a","report":"r"}]}`))
	f.Add([]byte(`{"time":"not a time"}`))
	f.Add([]byte(`[]`))
	const max = 4096
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEntry(b, max)
		if len(b) > max && err == nil {
			t.Fatalf("parseEntry accepted %d bytes, limit %d", len(b), max)
		}
		if err != nil {
			return
		}
		if e.Incomplete || e.Warning != "" || e.Dir != "" {
			t.Fatalf("parseEntry took read-back fields from the file: %+v", e)
		}
		again, err := json.Marshal(e)
		if err != nil {
			return // e.g. a year outside 0-9999
		}
		e2, err := parseEntry(again, int64(len(again)))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		if b2, _ := json.Marshal(e2); string(b2) != string(again) {
			t.Fatalf("round trip changed the entry:\n%s\n%s", again, b2)
		}
	})
}
