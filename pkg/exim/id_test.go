package exim

import (
	"sort"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	// 1xaakB-0007zK-2h: a real Exim 4.96 ID (testdata/multi.H), received
	// at 1796657711.836933 by pid 30710 ("0007zK"), no localhost_number.
	at := time.Unix(1796657711, 836933000)
	if got := NewID(at, 30710, -1); got != "1xaakB-0007zK-2h" {
		t.Errorf("NewID = %q, want 1xaakB-0007zK-2h", got)
	}
	// localhost_number 3: the last field is 3*200 + 836933/5000 = 767.
	if got := NewID(at, 30710, 3); got != "1xaakB-0007zK-CN" {
		t.Errorf("NewID with host number 3 = %q, want 1xaakB-0007zK-CN", got)
	}
	// The largest: host number 16, the last tick of a second: 3399.
	if got := NewID(time.Unix(0, 999999000), 0, MaxHostNumber); got != "000000-000000-sp" {
		t.Errorf("NewID(max) = %q, want 000000-000000-sp", got)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"1xaakB-0007zK-2h":  true,
		"000000-000000-00":  true,
		"1xaakB-0007zK-2":   false,
		"1xaakB-0007zK-2hh": false,
		"1xaakB_0007zK-2h":  false,
		"1xaa/B-0007zK-2h":  false,
		"1xaa.B-0007zK-2h":  false,
		"../../etc/passwd0": false,
		"":                  false,
	} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, !want, want)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	// Exim's order: second, then sub-second, whatever the pid.
	ids := []string{"1xaakC-000000-01", "1xaakB-zzzzzz-2h", "1xaakB-000001-2i", "1xaakB-00000a-00"}
	sort.Slice(ids, func(i, j int) bool { return CompareIDs(ids[i], ids[j]) < 0 })
	want := []string{"1xaakB-00000a-00", "1xaakB-zzzzzz-2h", "1xaakB-000001-2i", "1xaakC-000000-01"}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("sorted %v, want %v", ids, want)
		}
	}
}

func TestIDGenUnique(t *testing.T) {
	// A frozen clock: every ID falls in one tick, told apart by the
	// counter in the pid field, above any pid Exim can have.
	at := time.Unix(1796657711, 836933000)
	g := NewIDGen(func() time.Time { return at }, 30710, -1)
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		id := g.Next()
		if !ValidID(id) || seen[id] {
			t.Fatalf("ID %d: %q (valid %v, repeated %v)", i, id, ValidID(id), seen[id])
		}
		seen[id] = true
		if id[:6] != "1xaakB" || id[14:] != "2h" {
			t.Fatalf("ID %q does not carry the time", id)
		}
		if i == 0 && id != "1xaakB-0007zK-2h" {
			t.Fatalf("first ID %q, want the plain Exim ID 1xaakB-0007zK-2h", id)
		}
	}
}

func TestSubdir(t *testing.T) {
	if got := Subdir("1xaakB-0007zK-2h"); got != "B" {
		t.Errorf("Subdir = %q, want B (the sixth character)", got)
	}
	q := Queue{Dir: "/s", Split: true}
	if got := q.HPath("1xaakB-0007zK-2h"); got != "/s/input/B/1xaakB-0007zK-2h-H" {
		t.Errorf("split HPath = %q", got)
	}
	q.Split = false
	if got := q.DPath("1xaakB-0007zK-2h"); got != "/s/input/1xaakB-0007zK-2h-D" {
		t.Errorf("flat DPath = %q", got)
	}
}
