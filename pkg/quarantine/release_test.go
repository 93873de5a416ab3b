package quarantine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

var releaseTime = time.Date(2026, 11, 23, 10, 11, 12, 0, time.UTC)

func releaseOpts(out string, to []string) ReleaseOptions {
	return ReleaseOptions{
		Outgoing: out, To: to, OrgName: "Example Org", Now: releaseTime,
		IDGen: sendmail.NewIDGen(func() time.Time { return releaseTime }, 4242, 0),
	}
}

// readOut parses the qf of id in the outgoing queue out and returns it
// with the df bytes; it fails the test if a tf is left behind.
func readOut(t *testing.T, out, id string) (*sendmail.Qf, []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join(out, sendmail.QfName(id)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qf, err := sendmail.ParseQf(f, sendmail.Limits{})
	if err != nil {
		t.Fatalf("ParseQf(released qf): %v", err)
	}
	df, err := os.ReadFile(filepath.Join(out, sendmail.DfName(id)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, sendmail.TfName(id))); err == nil {
		t.Errorf("tf%s left in the outgoing queue", id)
	}
	for _, name := range []string{sendmail.QfName(id), sendmail.DfName(id)} {
		if st, _ := os.Stat(filepath.Join(out, name)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	return qf, df
}

func rcpts(qf *sendmail.Qf) []string {
	var out []string
	for _, r := range qf.Recipients() {
		out = append(out, r.Addr)
	}
	return out
}

func TestRelease(t *testing.T) {
	idx := &memIndex{}
	q := &Quarantine{Dir: t.TempDir(), Index: idx}
	id := store(t, q, "6AO1YNQ5022619", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	out := t.TempDir()
	newID, err := q.Release(id, releaseOpts(out, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := sendmail.NewID(releaseTime, 0, 4242); newID != want {
		t.Errorf("Release id = %s, want %s", newID, want)
	}
	qf, df := readOut(t, out, newID)
	if want := []string{"bob@example.test", "Carol@Example.Test", "dave@other.example"}; !slices.Equal(rcpts(qf), want) {
		t.Errorf("released recipients = %v, want the original %v", rcpts(qf), want)
	}
	if qf.Sender() != "alice@sender.example" {
		t.Errorf("released sender = %q", qf.Sender())
	}
	if v, ok := qf.Header("X-ExampleOrg-QScan-Released"); !ok || v != "Mon, 23 Nov 2026 10:11:12 +0000" {
		t.Errorf("X-ExampleOrg-QScan-Released = %q, %v", v, ok)
	}
	if v, _ := qf.Header("Subject"); v != "three recipients" {
		t.Errorf("Subject = %q: the other headers must stay", v)
	}
	orig, _ := os.ReadFile("testdata/multi.df")
	if !bytes.Equal(df, orig) {
		t.Errorf("released df = %q, want the quarantined bytes %q", df, orig)
	}
	e, err := q.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Released) != 1 || e.Released[0].QueueID != newID || !e.Released[0].Time.Equal(releaseTime) || len(e.Released[0].To) != 3 {
		t.Errorf("metadata Released = %+v", e.Released)
	}
	if e.Reason != "Eicar-Test-Signature" || !e.Whole {
		t.Errorf("metadata lost its fields on rewrite: %+v", e)
	}
	if got := idx.released[id]; !got.Equal(releaseTime) {
		t.Errorf("index MarkReleased(%s) = %v, want %v", id, got, releaseTime)
	}

	// A second release goes under another id and is recorded too.
	id2, err := q.Release(id, releaseOpts(out, nil))
	if err != nil || id2 == newID {
		t.Fatalf("second Release = %s, %v (first %s)", id2, err, newID)
	}
	if e, _ := q.Get(id); len(e.Released) != 2 {
		t.Errorf("after two releases Released = %+v", e.Released)
	}
}

func TestReleaseTo(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "6AO1YNQ5022619", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	out := t.TempDir()
	newID, err := q.Release(id, releaseOpts(out, []string{"<admin@example.test>", "ADMIN@example.test", "help@example.test"}))
	if err != nil {
		t.Fatal(err)
	}
	qf, _ := readOut(t, out, newID)
	if want := []string{"admin@example.test", "help@example.test"}; !slices.Equal(rcpts(qf), want) {
		t.Errorf("released recipients = %v, want %v", rcpts(qf), want)
	}
	if !strings.Contains(string(qf.Bytes()), "RP:<admin@example.test>\n") {
		t.Errorf("released qf has no R line for the new recipient:\n%s", qf.Bytes())
	}
	if strings.Contains(string(qf.Bytes()), "rRFC822; bob@example.test") {
		t.Errorf("released qf keeps the old recipient's r line:\n%s", qf.Bytes())
	}
	if e, _ := q.Get(id); len(e.Released) != 1 || !slices.Equal(e.Released[0].To, []string{"admin@example.test", "help@example.test"}) {
		t.Errorf("metadata Released = %+v", e.Released)
	}
}

func TestReleaseRefused(t *testing.T) {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		damage func(dir string)
		to     []string
		want   error
	}{
		{"no metadata", func(dir string) { os.Remove(filepath.Join(dir, "metadata.json")) }, nil, ErrIncomplete},
		{"bad metadata", func(dir string) { os.WriteFile(filepath.Join(dir, "metadata.json"), []byte("{"), 0o600) }, nil, ErrIncomplete},
		{"no qf", func(dir string) { os.Remove(filepath.Join(dir, "qfAAA")) }, nil, ErrNoQueue},
		{"no df", func(dir string) { os.Remove(filepath.Join(dir, "dfAAA")) }, nil, ErrNoQueue},
		{"truncated qf", func(dir string) { os.WriteFile(filepath.Join(dir, "qfAAA"), []byte("V8\nS<a@b>\n"), 0o600) }, nil, sendmail.ErrTruncated},
		{"bad address", func(string) {}, []string{"a@b>\nRP:<evil@x"}, sendmail.ErrBadAddress},
		{"no domain", func(string) {}, []string{"bob"}, sendmail.ErrBadAddress},
		{"blank", func(string) {}, []string{"a@b.test", "bob smith@example.test"}, sendmail.ErrBadAddress},
		{"two addresses", func(string) {}, []string{"a@b.test,c@d.test"}, sendmail.ErrBadAddress},
		{"qf symlink", func(dir string) {
			os.Remove(filepath.Join(dir, "qfAAA"))
			os.Symlink("/etc/passwd", filepath.Join(dir, "qfAAA"))
		}, nil, ErrNoQueue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &Quarantine{Dir: t.TempDir()}
			id := store(t, q, "AAA", at)
			dir, _ := q.Path(id)
			tt.damage(dir)
			out := t.TempDir()
			if _, err := q.Release(id, releaseOpts(out, tt.to)); !errors.Is(err, tt.want) {
				t.Errorf("Release error = %v, want %v", err, tt.want)
			}
			if des, _ := os.ReadDir(out); len(des) != 0 {
				t.Errorf("refused release left %d files in the outgoing queue", len(des))
			}
		})
	}
}

// TestReleaseIDTaken checks that a release never overwrites a file of the
// outgoing queue: the ids in use are skipped.
func TestReleaseIDTaken(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	out := t.TempDir()
	first, second := sendmail.NewID(releaseTime, 0, 4242), sendmail.NewID(releaseTime, 1, 4242)
	os.WriteFile(filepath.Join(out, sendmail.DfName(first)), []byte("theirs"), 0o600)
	newID, err := q.Release(id, releaseOpts(out, nil))
	if err != nil {
		t.Fatal(err)
	}
	if newID != second {
		t.Errorf("Release id = %s, want %s (%s is taken)", newID, second, first)
	}
	if b, _ := os.ReadFile(filepath.Join(out, sendmail.DfName(first))); string(b) != "theirs" {
		t.Errorf("df%s overwritten: %q", first, b)
	}
}

func TestReleaseNestedQueue(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	out := t.TempDir()
	os.Mkdir(filepath.Join(out, "qf"), 0o700)
	os.Mkdir(filepath.Join(out, "df"), 0o700)
	newID, err := q.Release(id, releaseOpts(out, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(out, "qf", sendmail.QfName(newID)), filepath.Join(out, "df", sendmail.DfName(newID))} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("nested queue: %v", err)
		}
	}
}

func TestReleaseIndexError(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	q.Index = &memIndex{fail: errors.New("locked")}
	out := t.TempDir()
	newID, err := q.Release(id, releaseOpts(out, nil))
	if !errors.Is(err, ErrIndex) || newID == "" {
		t.Fatalf("Release with a failing index = %q, %v; want the new id and ErrIndex", newID, err)
	}
	readOut(t, out, newID)
	if e, _ := q.Get(id); len(e.Released) != 1 {
		t.Errorf("metadata Released = %+v, want the release recorded", e.Released)
	}
}

// TestReleaseKeepsOwner checks that metadata.json rewritten by root keeps
// the owner of the entry directory (the daemon's user).
func TestReleaseKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "AAA", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	dir, _ := q.Path(id)
	if err := os.Chown(dir, 4321, 4322); err != nil {
		t.Skip(err)
	}
	if _, err := q.Release(id, releaseOpts(t.TempDir(), nil)); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "metadata.json"))
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 4321 || s.Gid != 4322 {
		t.Errorf("metadata.json owner = %d:%d, want 4321:4322", s.Uid, s.Gid)
	}
}

// TestReleaseThroughPublish: with ReleaseOptions.Publish the stored control
// file and body go to it as they were quarantined (another MTA's format
// is its business), with the new recipients cleaned and each once, and
// the release is recorded as with sendmail's queue.
func TestReleaseThroughPublish(t *testing.T) {
	q := &Quarantine{Dir: t.TempDir()}
	id := store(t, q, "6AO1YNQ5022619", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	var gotCtl, gotBody []byte
	var gotTo []string
	var gotHeader, gotValue string
	o := ReleaseOptions{OrgName: "Example Org", Now: releaseTime, To: []string{"<admin@example.test>", "ADMIN@example.test"},
		Publish: func(ctl, body []byte, to []string, header, value string) (string, []string, error) {
			gotCtl, gotBody, gotTo, gotHeader, gotValue = ctl, body, to, header, value
			return "NEWID1", to, nil
		}}
	newID, err := q.Release(id, o)
	if err != nil || newID != "NEWID1" {
		t.Fatalf("Release = %q, %v", newID, err)
	}
	wantCtl, _ := os.ReadFile("testdata/multi.qf")
	wantBody, _ := os.ReadFile("testdata/multi.df")
	if !bytes.Equal(gotCtl, wantCtl) || !bytes.Equal(gotBody, wantBody) {
		t.Errorf("Publish got control %q and body %q, want the quarantined files", gotCtl, gotBody)
	}
	if !slices.Equal(gotTo, []string{"admin@example.test"}) {
		t.Errorf("Publish got to %v, want [admin@example.test]", gotTo)
	}
	if gotHeader != "X-ExampleOrg-QScan-Released" || gotValue != "Mon, 23 Nov 2026 10:11:12 +0000" {
		t.Errorf("Publish got header %q: %q", gotHeader, gotValue)
	}
	if e, _ := q.Get(id); len(e.Released) != 1 || e.Released[0].QueueID != "NEWID1" {
		t.Errorf("metadata Released = %+v", e.Released)
	}
}
