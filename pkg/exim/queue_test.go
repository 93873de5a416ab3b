package exim

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain doubles as a helper process that holds a lock the way Exim
// does (a classic fcntl record lock, owned by the process) on the file
// named by EXIM_TEST_HOLD, until its stdin closes.
func TestMain(m *testing.M) {
	if p := os.Getenv("EXIM_TEST_HOLD"); p != "" {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			os.Exit(2)
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Len: DataOffset}
		if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// newSpool makes a spool directory with input/ and msglog/.
func newSpool(t *testing.T, split bool) Queue {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"input", "msglog"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	q, err := OpenQueue(dir, split)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func clockAt(sec int64) func() time.Time {
	return func() time.Time { return time.Unix(sec, 500000000) }
}

func publishGolden(t *testing.T, q Queue, gen *IDGen, name, body string) string {
	t.Helper()
	h := golden(t, name)
	id, err := q.Publish(gen, h, strings.NewReader(body))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return id
}

func TestPublishListLockRemove(t *testing.T) {
	for _, split := range []bool{false, true} {
		q := newSpool(t, split)
		gen := NewIDGen(clockAt(1796657711), os.Getpid(), -1)
		older := NewIDGen(clockAt(1796650000), os.Getpid(), -1)
		id2 := publishGolden(t, q, gen, "multi", "second\n")
		id1 := publishGolden(t, q, older, "dsn", "first\n")
		if split && filepath.Base(filepath.Dir(q.HPath(id1))) != Subdir(id1) {
			t.Fatalf("split spool: -H at %s", q.HPath(id1))
		}
		// Nothing of ours is left: no hdr. temporaries.
		tmps, _ := filepath.Glob(filepath.Join(q.Dir, "input", "*", "hdr.*"))
		tmps2, _ := filepath.Glob(filepath.Join(q.Dir, "input", "hdr.*"))
		if len(tmps)+len(tmps2) != 0 {
			t.Errorf("temporaries left: %v %v", tmps, tmps2)
		}
		es, err := q.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || es[0].ID != id1 || es[1].ID != id2 {
			t.Fatalf("List = %+v, want %s then %s (oldest first)", es, id1, id2)
		}
		e := es[0]
		if e.DMissing || e.Empty || e.HPath != q.HPath(id1) || e.DPath != q.DPath(id1) {
			t.Errorf("entry %+v", e)
		}
		l, err := Lock(e.ID, e.HPath, e.DPath)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		h, err := l.ReadH(Limits{})
		if err != nil || h.ID() != id1 || h.Sender() != "alice@sender.example" {
			t.Fatalf("ReadH: %v %v", h, err)
		}
		body, err := l.Body()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(body); string(b) != "first\n" {
			t.Errorf("body %q", b)
		}
		// A second claim, by this process or another, finds it locked.
		if _, err := Lock(e.ID, e.HPath, e.DPath); !errors.Is(err, ErrLocked) {
			t.Errorf("second Lock: %v, want ErrLocked", err)
		}
		os.WriteFile(filepath.Join(filepath.Dir(e.HPath), e.ID+"-J"), []byte("x\n"), 0o600)
		msglog := filepath.Join(q.Dir, "msglog", e.ID)
		if split {
			os.Mkdir(filepath.Join(q.Dir, "msglog", Subdir(e.ID)), 0o750)
			msglog = filepath.Join(q.Dir, "msglog", Subdir(e.ID), e.ID)
		}
		os.WriteFile(msglog, []byte("log\n"), 0o600)
		if err := q.Remove(e); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		l.Unlock()
		if q.Taken(id1) {
			t.Error("files of the removed message are left")
		}
		if _, err := os.Stat(msglog); err == nil {
			t.Error("message log left")
		}
		if es, _ := q.List(); len(es) != 1 || es[0].ID != id2 {
			t.Errorf("List after Remove = %+v", es)
		}
	}
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	q := newSpool(t, false)
	id := publishGolden(t, q, NewIDGen(time.Now, os.Getpid(), -1), "null", "body\n")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EXIM_TEST_HOLD="+q.DPath(id))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	if _, err := Lock(id, q.HPath(id), q.DPath(id)); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock while another process holds Exim's lock: %v, want ErrLocked", err)
	}
	stdin.Close()
	cmd.Wait()
	l, err := Lock(id, q.HPath(id), q.DPath(id))
	if err != nil {
		t.Fatalf("Lock after the holder exited: %v", err)
	}
	l.Unlock()
}

func TestLockRefuses(t *testing.T) {
	q := newSpool(t, false)
	id := publishGolden(t, q, NewIDGen(time.Now, os.Getpid(), -1), "null", "body\n")
	// A symbolic link in place of the -D is never followed.
	target := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(target, []byte("secret"), 0o600)
	os.Rename(q.DPath(id), q.DPath(id)+".bak")
	os.Symlink(target, q.DPath(id))
	if _, err := Lock(id, q.HPath(id), q.DPath(id)); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock of a symlinked -D: %v, want ErrNotRegular", err)
	}
	os.Remove(q.DPath(id))
	if _, err := Lock(id, q.HPath(id), q.DPath(id)); !errors.Is(err, ErrNoData) {
		t.Errorf("Lock without -D: %v, want ErrNoData", err)
	}
	es, _ := q.List()
	if len(es) != 1 || !es[0].DMissing {
		t.Errorf("List without -D: %+v, want DMissing", es)
	}
	os.Rename(q.DPath(id)+".bak", q.DPath(id))
	os.Remove(q.HPath(id))
	if _, err := Lock(id, q.HPath(id), q.DPath(id)); !errors.Is(err, ErrGone) {
		t.Errorf("Lock without -H: %v, want ErrGone", err)
	}
	// A -D whose first line names another message.
	os.WriteFile(q.DPath(id), []byte("1xaakB-0007zK-2h-D\nbody\n"), 0o600)
	f, _ := os.Open(q.DPath(id))
	defer f.Close()
	if _, err := Body(f, id); !errors.Is(err, ErrBadData) {
		t.Errorf("Body of a -D of another ID: %v, want ErrBadData", err)
	}
}

func TestListIgnores(t *testing.T) {
	q := newSpool(t, false)
	in := filepath.Join(q.Dir, "input")
	os.WriteFile(filepath.Join(in, "1xaakB-0007zK-2h-D"), []byte("1xaakB-0007zK-2h-D\n"), 0o600) // being received
	os.WriteFile(filepath.Join(in, "hdr.1xaakB-0007zK-2h"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(in, "not-an-id-H"), []byte("x"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(in, "1xaakB-0007zL-2h-H"))
	os.Mkdir(filepath.Join(in, "B"), 0o750)
	os.WriteFile(filepath.Join(in, "B", "1xaakB-0007zM-2h-H"), nil, 0o600) // empty
	es, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != "1xaakB-0007zM-2h" || !es[0].Empty || !es[0].DMissing {
		t.Errorf("List = %+v, want only the empty -H in input/B", es)
	}
}

func TestPublishSkipsTakenIDs(t *testing.T) {
	q := newSpool(t, true)
	at := clockAt(1796657711)
	first := NewIDGen(at, 4242, -1).Next()
	os.MkdirAll(filepath.Dir(q.DPath(first)), 0o750)
	os.WriteFile(q.DPath(first), []byte("someone else's\n"), 0o600) // Exim receiving
	id := publishGolden(t, q, NewIDGen(at, 4242, -1), "null", "mine\n")
	if id == first {
		t.Fatalf("Publish used the taken ID %s", id)
	}
	if b, _ := os.ReadFile(q.DPath(first)); string(b) != "someone else's\n" {
		t.Error("Publish touched the other -D")
	}
	if b, _ := os.ReadFile(q.DPath(id)); !bytes.Equal(b, []byte(id+"-D\nmine\n")) {
		t.Errorf("-D = %q", b)
	}
	h, _ := os.ReadFile(q.HPath(id))
	if !bytes.HasPrefix(h, []byte(id+"-H\n")) {
		t.Errorf("-H starts %q", h[:20])
	}
}

func TestPublishHIdempotent(t *testing.T) {
	q := newSpool(t, false)
	id := "1xaakB-0007zK-2h"
	d, err := q.CreateData(id, strings.NewReader("b\n"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	h := golden(t, "null")
	h.SetID(id)
	if err := q.WriteTempH(id, h.Bytes()); err != nil {
		t.Fatal(err)
	}
	if es, _ := q.List(); len(es) != 0 {
		t.Fatalf("listed before PublishH: %+v", es)
	}
	for i := 0; i < 2; i++ { // a crash after the link: recovery runs it again
		if err := q.PublishH(id); err != nil {
			t.Fatalf("PublishH #%d: %v", i+1, err)
		}
	}
	if es, _ := q.List(); len(es) != 1 {
		t.Fatalf("List after PublishH = %+v", es)
	}
}

func TestEnqueueNewH(t *testing.T) {
	q := newSpool(t, false)
	raw := []byte("From: qscan@example.test\r\nTo: postmaster@example.test\r\nSubject: report\r\nReturn-Path: <x@y>\r\n\r\nline 1\r\nline 2")
	rcpts := []Recipient{{Address: "postmaster@example.test", Parent: -1},
		{Address: "b@example.test", ORcpt: "rfc822;b@example.test", DSNFlags: DSNNotifyFailure, Parent: -1}}
	id, err := q.Enqueue(NewIDGen(time.Now, os.Getpid(), -1), raw, "", rcpts, NewOpts{Time: time.Unix(1796657711, 123456000)})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(q.HPath(id))
	defer f.Close()
	h, err := ParseH(f, Limits{})
	if err != nil {
		t.Fatalf("ParseH of Enqueue's -H: %v", err)
	}
	if h.Sender() != "" || len(h.Recipients()) != 2 || h.Recipients()[1] != rcpts[1] || h.BodyLines() != 2 || !h.Client().Local {
		t.Errorf("envelope: sender %q rcpts %+v lines %d client %+v", h.Sender(), h.Recipients(), h.BodyLines(), h.Client())
	}
	if got := string(h.HeaderBlock()); got != "From: qscan@example.test\nTo: postmaster@example.test\nSubject: report\n" {
		t.Errorf("HeaderBlock = %q", got)
	}
	if hs := h.Headers(); hs[0].Flag != FlagFrom || hs[1].Flag != FlagTo || hs[2].Flag != FlagOther {
		t.Errorf("flags %q %q %q", hs[0].Flag, hs[1].Flag, hs[2].Flag)
	}
	if h.Received() != time.Unix(1796657711, 123456000) {
		t.Errorf("Received() = %v", h.Received())
	}
	if _, err := NewH("a@b", nil, nil, NewOpts{Time: time.Now()}); !errors.Is(err, ErrNoRecipient) {
		t.Errorf("NewH without recipients: %v", err)
	}
	if _, err := NewH("a@b", Rcpts("c@d"), []byte("not a header\n"), NewOpts{Time: time.Now()}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("NewH with a bad header: %v", err)
	}
	if _, err := NewH("a@b", Rcpts("c\n@d"), nil, NewOpts{Time: time.Now()}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("NewH with a line break in an address: %v", err)
	}
	big := []byte("X-Big: " + strings.Repeat("x", 100) + "\n")
	if _, err := NewH("a@b", Rcpts("c@d"), big, NewOpts{Time: time.Now(), MaxHeaderBytes: len(big)}); err != nil {
		t.Errorf("NewH with a header at the limit: %v", err)
	}
	if _, err := NewH("a@b", Rcpts("c@d"), big, NewOpts{Time: time.Now(), MaxHeaderBytes: len(big) - 1}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("NewH with a header over the limit: %v", err)
	}
}

func TestPublishOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	dir := t.TempDir()
	for _, d := range []string{"input", "msglog"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
		os.Chown(filepath.Join(dir, d), 65534, 65534)
	}
	q, err := OpenQueue(dir, true)
	if err != nil || q.UID != 65534 {
		t.Fatalf("OpenQueue: %+v %v", q, err)
	}
	id := publishGolden(t, q, NewIDGen(time.Now, os.Getpid(), -1), "null", "b\n")
	for _, p := range []string{q.HPath(id), q.DPath(id), filepath.Dir(q.HPath(id))} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		want := os.FileMode(SpoolMode)
		if st.IsDir() {
			want = os.ModeDir | inputDirMode
		}
		if sys.Uid != 65534 || sys.Gid != 65534 || st.Mode() != want {
			t.Errorf("%s: owner %d:%d mode %v, want 65534:65534 %v", p, sys.Uid, sys.Gid, st.Mode(), want)
		}
	}
	// Not given away (input/ owned by root): 0660 for the Exim group.
	q2 := newSpool(t, false)
	id = publishGolden(t, q2, NewIDGen(time.Now, os.Getpid(), -1), "null", "b\n")
	if st, _ := os.Stat(q2.DPath(id)); st.Mode() != spoolModeGroup {
		t.Errorf("-D mode %v, want %v", st.Mode(), os.FileMode(spoolModeGroup))
	}
}
