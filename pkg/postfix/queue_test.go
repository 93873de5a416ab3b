package postfix

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestIDs(t *testing.T) {
	// BD925988491 is an ID the stack's Postfix gave (usec 0xBD925, inode
	// 0x988491); 4jjmYk3CtMz1SLfc one it gave with long IDs on, for the
	// file with inode 9997409 that arrived at second 1796658122.
	if got := ShortID(time.Unix(0, 0xBD925*1000), 0x988491); got != "BD925988491" {
		t.Errorf("ShortID = %q", got)
	}
	sec, _ := safeValue("4jjmYk", lgSecBase)
	usec, _ := safeValue("3CtM", lgUsecBase)
	if sec != 1796658122 {
		t.Errorf("seconds of 4jjmYk = %d, want 1796658122", sec)
	}
	if got := LongID(time.Unix(int64(sec), int64(usec)*1000), 9997409); got != "4jjmYk3CtMz1SLfc" {
		t.Errorf("LongID = %q, want 4jjmYk3CtMz1SLfc", got)
	}
	for _, c := range []struct {
		id    string
		inode uint64
		long  bool
		ok    bool
	}{
		{"BD925988491", 0x988491, false, true},
		{"4jjmYk3CtMz1SLfc", 9997409, true, true},
		{"BD92", 0, false, false},
		{"BD925XYZ", 0, false, false},
	} {
		inode, long, ok := IDInode(c.id)
		if inode != c.inode || long != c.long || ok != c.ok {
			t.Errorf("IDInode(%q) = %d, %v, %v; want %d, %v, %v", c.id, inode, long, ok, c.inode, c.long, c.ok)
		}
	}
	for id, want := range map[string]bool{"BD925988491": true, "4jjmYk3CtMz1SLfc": true, "a_b": true, "": false,
		"../x": false, "a.b": false, "a/b": false, strings.Repeat("A", MaxIDLen): true, strings.Repeat("A", MaxIDLen+1): false} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%.20q) = %v", id, !want)
		}
	}
}

func TestSubDir(t *testing.T) {
	q := Queue{Dir: "/q"}
	for _, c := range []struct {
		q            Queue
		queue, id, d string
	}{
		{q, Incoming, "BD925988491", "/q/incoming"},
		{q, Deferred, "BD925988491", "/q/deferred/B"},
		{Queue{Dir: "/q", HashDepth: 2}, Deferred, "BD925988491", "/q/deferred/B/D"},
		{Queue{Dir: "/q", HashNames: []string{"hold", "incoming"}, HashDepth: 2}, Hold, "BD925988491", "/q/hold/B/D"},
		{Queue{Dir: "/q", HashNames: []string{"hold"}}, Incoming, "BD925988491", "/q/incoming"},
		// A long ID hashes by its microseconds in hex, like its short form.
		{q, Deferred, "4jjmYk3CtMz1SLfc", "/q/deferred/" + hashKey("4jjmYk3CtMz1SLfc")[:1]},
		{Queue{Dir: "/q", HashDepth: 3}, Deferred, "A", "/q/deferred/A/_/_"},
	} {
		if got := c.q.SubDir(c.queue, c.id); got != c.d {
			t.Errorf("%+v SubDir(%s, %s) = %s, want %s", c.q, c.queue, c.id, got, c.d)
		}
	}
	usec, _ := safeValue("3CtM", lgUsecBase)
	if got := hashKey("4jjmYk3CtMz1SLfc"); got != hex5(usec) {
		t.Errorf("hashKey = %s", got)
	}
}

func hex5(v uint64) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 5)
	for i := 4; i >= 0; i-- {
		b[i] = digits[v%16]
		v /= 16
	}
	return string(b)
}

func newQueue(t *testing.T, q Queue) Queue {
	t.Helper()
	q.Dir = t.TempDir()
	for _, d := range []string{Incoming, Active, Deferred, Hold, Corrupt} {
		if err := os.Mkdir(filepath.Join(q.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return q
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestPublishListLockRemove(t *testing.T) {
	for _, q := range []Queue{{}, {LongIDs: true}, {HashNames: []string{"incoming", "hold"}, HashDepth: 2}} {
		q = newQueue(t, q)
		raw := goldenRaw(t, "dsn")
		clock := func() time.Time { return time.Unix(1796657428, 123456000) }
		id, err := q.Publish(raw, clock)
		if err != nil {
			t.Fatal(err)
		}
		path := q.Path(Incoming, id)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != ReadyMode {
			t.Errorf("mode %v, want 0700", st.Mode())
		}
		inode, long, ok := IDInode(id)
		if !ok || inode != inodeOf(t, path) || long != q.LongIDs {
			t.Errorf("ID %s names inode %d (long %v), file has %d", id, inode, long, inodeOf(t, path))
		}
		if q.LongIDs == false && !strings.HasPrefix(id, "1E240") {
			t.Errorf("short ID %s does not start with the microseconds 1E240", id)
		}
		if left, _ := q.RemoveTemps(Incoming); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		es, err := q.List(Incoming)
		if err != nil || len(es) != 1 || es[0].ID != id || !es[0].Ready || es[0].Path != path {
			t.Fatalf("List = %+v, %v", es, err)
		}
		l, err := Lock(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Lock(path); !errors.Is(err, ErrLocked) {
			t.Errorf("second Lock: %v, want ErrLocked", err)
		}
		f, err := l.Parse(Limits{})
		if err != nil || string(f.Bytes()) != string(raw) {
			t.Fatalf("Parse of the locked file: %v", err)
		}
		if err := l.Remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Remove: %v", err)
		}
		if q.Taken(id) {
			t.Errorf("Taken(%s) after Remove", id)
		}
	}
}

func TestLockRefuses(t *testing.T) {
	q := newQueue(t, Queue{})
	dir := filepath.Join(q.Dir, Hold)
	writing := filepath.Join(dir, "AAAAA1")
	if err := os.WriteFile(writing, goldenRaw(t, "sasl"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(writing); !errors.Is(err, ErrNotReady) {
		t.Errorf("Lock of a 0600 file: %v, want ErrNotReady", err)
	}
	link := filepath.Join(dir, "AAAAA2")
	if err := os.Symlink(writing, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(link); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock of a symlink: %v, want ErrNotRegular", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "AAAAA3"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(filepath.Join(dir, "AAAAA3")); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock of a directory: %v, want ErrNotRegular", err)
	}
	os.WriteFile(filepath.Join(dir, "not.an.id"), nil, 0o700)
	es, err := q.List(Hold)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
		if e.ID == "AAAAA1" && e.Ready {
			t.Error("a 0600 file listed as ready")
		}
	}
	if !slices.Equal(ids, []string{"AAAAA1"}) {
		t.Errorf("List(hold) = %v, want [AAAAA1]", ids)
	}
	// A file replaced under its name after it was opened is gone.
	ready := filepath.Join(dir, "BBBBB1")
	os.WriteFile(ready, goldenRaw(t, "sasl"), 0o700)
	l, err := Lock(ready)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(ready)
	os.WriteFile(ready, []byte("other"), 0o700)
	if err := l.Remove(); !errors.Is(err, ErrGone) {
		t.Errorf("Remove of a replaced file: %v, want ErrGone", err)
	}
	if _, err := os.Stat(ready); err != nil {
		t.Errorf("the replacing file was removed: %v", err)
	}
}

func TestRemoveTemps(t *testing.T) {
	q := newQueue(t, Queue{})
	dir := filepath.Join(q.Dir, Incoming)
	os.WriteFile(filepath.Join(dir, tempPrefix+"1.ab"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "12345.678"), nil, 0o600) // Postfix's own temporary name
	got, err := q.RemoveTemps(Incoming)
	if err != nil || !slices.Equal(got, []string{tempPrefix + "1.ab"}) {
		t.Errorf("RemoveTemps = %v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "12345.678")); err != nil {
		t.Errorf("Postfix's temporary file removed: %v", err)
	}
}

func TestKickerCommand(t *testing.T) {
	k := Kicker{Postkick: "/usr/sbin/postkick", ConfigDir: "/etc/postfix-in", Env: []string{"X=1"}}
	cmd := k.Command(context.Background())
	if got := strings.Join(cmd.Args, " "); got != "/usr/sbin/postkick -c /etc/postfix-in public qmgr I" {
		t.Errorf("args = %q", got)
	}
	if !slices.Contains(cmd.Env, "X=1") {
		t.Error("Env not passed")
	}
	if got := strings.Join(Kicker{Postkick: "postkick"}.Command(context.Background()).Args, " "); got != "postkick public qmgr I" {
		t.Errorf("args without config dir = %q", got)
	}
}
