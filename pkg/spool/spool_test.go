package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

// seqGen hands out the IDs it was given, then numbered ones.
type seqGen struct {
	mu  sync.Mutex
	ids []string
	n   int
}

func (g *seqGen) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.ids) > 0 {
		id := g.ids[0]
		g.ids = g.ids[1:]
		return id
	}
	g.n++
	return fmt.Sprintf("ID%04d", g.n)
}

func newSpool(t *testing.T) Spool {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func publish(t *testing.T, s Spool, gen IDSource, body string) string {
	t.Helper()
	id, n, err := s.Publish(gen, sample(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(body)) {
		t.Errorf("Publish read %d bytes, want %d", n, len(body))
	}
	return id
}

func TestPublishListLockRemove(t *testing.T) {
	s := newSpool(t)
	gen := &seqGen{}
	a := publish(t, s, gen, "Subject: a\n\nbody a\n")
	b := publish(t, s, gen, "Subject: b\n\nbody b\n")
	// a is older than b even if the clock is coarse.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(s.EnvPath(a), old, old)
	es, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID != a || es[1].ID != b {
		t.Fatalf("List = %+v, want %s then %s", es, a, b)
	}
	l, err := es[0].Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es[0].Lock(); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock = %v, want ErrLocked", err)
	}
	env, err := l.Envelope(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if env.Sender != "alice@example.org" || len(env.Recipients) != 3 {
		t.Errorf("Envelope = %+v", env)
	}
	m, err := l.Message()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(m); string(got) != "Subject: a\n\nbody a\n" {
		t.Errorf("Message = %q", got)
	}
	if err := s.Remove(a); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	es, _ = s.List()
	if len(es) != 1 || es[0].ID != b {
		t.Errorf("after Remove, List = %+v", es)
	}
	if s.Taken(a) {
		t.Errorf("files of %s left after Remove", a)
	}
	if err := s.Remove(a); err != nil {
		t.Errorf("Remove of a removed entry: %v", err)
	}
}

func TestPublishSkipsTakenIDs(t *testing.T) {
	s := newSpool(t)
	gen := &seqGen{ids: []string{"X1", "X1", "X1", "X2"}}
	if id := publish(t, s, gen, "one\n"); id != "X1" {
		t.Fatalf("first id %s", id)
	}
	// A stray message file and a staged entry (a report of the batch
	// being committed) also make an ID taken.
	os.WriteFile(s.DataPath("X2"), []byte("stray"), 0o600)
	os.WriteFile(s.StagedPath("X3"), []byte("staged"), 0o600)
	gen.ids = []string{"X1", "X2", "X3", "X4"}
	if id := publish(t, s, gen, "two\n"); id != "X4" {
		t.Errorf("second id %s, want X4 (X1, X2 and X3 are taken)", id)
	}
	if !s.Taken("X3") {
		t.Error("a staged entry's ID is not Taken")
	}
	if got := message(t, s, "X1"); got != "one\n" {
		t.Errorf("X1 overwritten: %q", got)
	}
}

// message reads the message of the entry id through its lock.
func message(t *testing.T, s Spool, id string) string {
	t.Helper()
	dataPath := ""
	if exists(s.DataPath(id)) {
		dataPath = s.DataPath(id)
	}
	l, err := Lock(s.EnvPath(id), dataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := l.Envelope(Limits{}); err != nil {
		t.Fatal(err)
	}
	m, err := l.Message()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(m)
	return string(b)
}

// A published message is one file: the envelope of format 2, then the
// message as it was read.
func TestPublishOneFile(t *testing.T) {
	s := newSpool(t)
	body := "Subject: one\n\nbody\n"
	id := publish(t, s, &seqGen{}, body)
	des, _ := os.ReadDir(s.Dir)
	if len(des) != 1 || des[0].Name() != EnvName(id) {
		t.Fatalf("spool holds %v, want only %s", des, EnvName(id))
	}
	raw, _ := os.ReadFile(s.EnvPath(id))
	head, _ := sample().EntryBytes()
	if string(raw) != string(head)+body {
		t.Errorf("entry file =\n%s\nwant the envelope of format 2 and then the message", raw)
	}
	es, _ := s.List()
	if len(es) != 1 || es[0].DataPath != "" || es[0].Size != int64(len(raw)) {
		t.Errorf("List = %+v", es)
	}
}

// Entries of format 1 (envelope and message in two files, as qscan wrote
// them before) are listed, read and removed as they are.
func TestFormatOneEntry(t *testing.T) {
	s := newSpool(t)
	env, _ := sample().Bytes()
	os.WriteFile(s.DataPath("OLD"), []byte("Subject: old\n\nbody\n"), 0o600)
	os.WriteFile(s.EnvPath("OLD"), env, 0o600)
	es, err := s.List()
	if err != nil || len(es) != 1 || es[0].DataPath != s.DataPath("OLD") || es[0].Size != int64(len(env))+19 {
		t.Fatalf("List = %+v, %v", es, err)
	}
	if got := message(t, s, "OLD"); got != "Subject: old\n\nbody\n" {
		t.Errorf("message %q", got)
	}
	if err := s.Remove("OLD"); err != nil {
		t.Fatal(err)
	}
	if s.Taken("OLD") {
		t.Error("Remove left a file of a format-1 entry")
	}
	// Its envelope without the message file: listed as one entry, but
	// reading it says the message is missing (the pipeline sets it
	// aside).
	os.WriteFile(s.EnvPath("LOST"), env, 0o600)
	es, _ = s.List()
	if len(es) != 1 || es[0].ID != "LOST" {
		t.Fatalf("List = %+v", es)
	}
	l, err := es[0].Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := l.Envelope(Limits{}); !errors.Is(err, ErrNoData) {
		t.Errorf("Envelope of a format-1 envelope alone = %v, want ErrNoData", err)
	}
	if head, ok, err := l.Head(Limits{}); ok || err != nil || string(head) != string(env) {
		t.Errorf("Head = %q, %v, %v; want the envelope as it is, not ok", head, ok, err)
	}
}

// ReadHead finds the end of the envelope wherever it falls, across the
// reads it makes, and stops at its limit.
func TestReadHead(t *testing.T) {
	for n := 1; n < 700; n += 7 {
		e := sample()
		for i := range n {
			e.Recipients = append(e.Recipients, Recipient{Addr: fmt.Sprintf("r%d@example.net", i)})
		}
		head, _ := e.EntryBytes()
		want, _ := e.Bytes()
		raw := string(head) + "Subject: x\n"
		got, start, ok, err := ReadHead(strings.NewReader(raw), Limits{})
		if err != nil || !ok || start != int64(len(head)) || string(got) != string(want) {
			t.Fatalf("%d recipients: ReadHead = %d bytes, start %d, %v, %v; want %d bytes, start %d", n, len(got), start, ok, err, len(want), len(head))
		}
		if _, _, ok, _ := ReadHead(strings.NewReader(raw), Limits{MaxBytes: int64(len(head)) - 1}); ok {
			t.Fatalf("%d recipients: an envelope one byte over the limit was read", n)
		}
		if _, _, ok, _ := ReadHead(strings.NewReader(raw), Limits{MaxBytes: int64(len(head))}); !ok {
			t.Fatalf("%d recipients: an envelope at the limit was not read", n)
		}
	}
	for _, raw := range []string{"", "qscan-spool 2\nsender a\n", "qscan-spool 3\nend\n"} {
		if _, _, ok, err := ReadHead(strings.NewReader(raw), Limits{}); ok || err != nil {
			t.Errorf("ReadHead(%q) = %v, %v; want not ok", raw, ok, err)
		}
	}
}

func TestPublishRefusesBadID(t *testing.T) {
	s := newSpool(t)
	if _, _, err := s.Publish(&seqGen{ids: []string{"../x"}}, sample(), strings.NewReader("x")); err == nil {
		t.Error("Publish with id ../x succeeded")
	}
}

type failingReader struct{ n int }

var errBroken = errors.New("connection broken")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBroken
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// A message whose data fails half-way leaves nothing listed and nothing
// behind.
func TestPublishPartialLeavesNothing(t *testing.T) {
	s := newSpool(t)
	_, _, err := s.Publish(&seqGen{}, sample(), &failingReader{n: 5000})
	if !errors.Is(err, errBroken) {
		t.Fatalf("Publish = %v, want the reader's error", err)
	}
	des, _ := os.ReadDir(s.Dir)
	if len(des) != 0 {
		t.Errorf("files left: %v", des)
	}
}

func TestPublishRefusesBadEnvelope(t *testing.T) {
	s := newSpool(t)
	e := sample()
	e.Recipients = nil
	if _, _, err := s.Publish(&seqGen{}, e, strings.NewReader("x")); !errors.Is(err, ErrSyntax) {
		t.Errorf("Publish without recipients = %v, want ErrSyntax", err)
	}
}

func TestListIgnores(t *testing.T) {
	s := newSpool(t)
	id := publish(t, s, &seqGen{}, "m\n")
	os.WriteFile(filepath.Join(s.Dir, "mfORPHAN"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(s.Dir, "efEMPTY"), nil, 0o600)
	os.WriteFile(filepath.Join(s.Dir, safeio.TempPrefix+"m1"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(s.Dir, "ef..bad"), []byte("x"), 0o600)
	os.Symlink(s.EnvPath(id), filepath.Join(s.Dir, "efLINK"))
	os.Mkdir(filepath.Join(s.Dir, "efDIR"), 0o700)
	os.WriteFile(filepath.Join(s.Dir, "efNODATA"), []byte("x"), 0o600)
	es, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if want := []string{id, "NODATA"}; !slices.Equal(ids, want) {
		t.Errorf("List IDs = %v, want %v", ids, want)
	}
	if _, err := Lock(filepath.Join(s.Dir, "efLINK"), ""); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Lock of a symlink = %v, want ErrNotRegular", err)
	}
	if _, err := Lock(s.EnvPath("NODATA"), s.DataPath("NODATA")); !errors.Is(err, ErrNoData) {
		t.Errorf("Lock without message file = %v, want ErrNoData", err)
	}
	l, err := Lock(s.EnvPath("NODATA"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := l.Envelope(Limits{}); !errors.Is(err, ErrNoData) {
		t.Errorf("Envelope of efNODATA = %v, want ErrNoData", err)
	}
}

func TestClean(t *testing.T) {
	s := newSpool(t)
	id := publish(t, s, &seqGen{}, "m\n")
	orphan := filepath.Join(s.Dir, "mfORPHAN")
	tmp := filepath.Join(s.Dir, safeio.TempPrefix+"e123")
	foreign := filepath.Join(s.Dir, "notes.txt")
	for _, p := range []string{orphan, tmp, foreign} {
		os.WriteFile(p, []byte("x"), 0o600)
	}
	now := time.Now()
	// Too recent: nothing goes.
	if gone, _ := s.Clean(now.Add(-time.Hour)); len(gone) != 0 {
		t.Errorf("Clean(an hour ago) removed %v", gone)
	}
	gone, err := s.Clean(now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(gone)
	if want := []string{safeio.TempPrefix + "e123", "mfORPHAN"}; !slices.Equal(gone, want) {
		t.Errorf("Clean removed %v, want %v", gone, want)
	}
	if !exists(foreign) || !exists(s.EnvPath(id)) {
		t.Error("Clean removed a file it must keep")
	}
}

func TestPressure(t *testing.T) {
	s := newSpool(t)
	publish(t, s, &seqGen{}, strings.Repeat("x", 1000))
	_, used, _ := s.Usage()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	p := &Pressure{Spool: s, MaxBytes: used, Clock: clock}
	if err := p.Check(); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	p = &Pressure{Spool: s, MaxBytes: used - 1, Clock: clock}
	if err := p.Check(); !errors.Is(err, ErrFull) {
		t.Errorf("one byte over: %v, want ErrFull", err)
	}
	free, err := s.FreeBytes()
	if err != nil || free <= 0 {
		t.Fatalf("FreeBytes = %d, %v", free, err)
	}
	p = &Pressure{Spool: s, MinFree: 1 << 62, Clock: clock}
	if err := p.Check(); !errors.Is(err, ErrLowSpace) {
		t.Errorf("MinFree huge: %v, want ErrLowSpace", err)
	}
	p = &Pressure{Spool: s, MinFree: 1, Clock: clock}
	if err := p.Check(); err != nil {
		t.Errorf("MinFree 1: %v", err)
	}
	// The answer is kept for Every, then measured again.
	p = &Pressure{Spool: s, MaxBytes: used, Every: time.Minute, Clock: clock}
	p.Check()
	publish(t, s, &seqGen{ids: []string{"MORE"}}, "more")
	if err := p.Check(); err != nil {
		t.Errorf("within Every: %v, want the cached nil", err)
	}
	now = now.Add(time.Minute)
	if err := p.Check(); !errors.Is(err, ErrFull) {
		t.Errorf("after Every: %v, want ErrFull", err)
	}
}

func TestReplaceEnvelope(t *testing.T) {
	s := newSpool(t)
	id := publish(t, s, &seqGen{}, "m\n")
	es, _ := s.List()
	l, err := es[0].Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	env, _ := l.Envelope(Limits{})
	env.Recipients = env.Recipients[2:]
	if err := s.ReplaceEnvelope(l, id, env); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(s.EnvPath(id), ""); !errors.Is(err, ErrLocked) {
		t.Errorf("new envelope not locked: %v", err)
	}
	got, err := l.Envelope(Limits{})
	if err != nil || len(got.Recipients) != 1 || got.Recipients[0].Addr != "carol@example.net" {
		t.Errorf("after ReplaceEnvelope, Envelope = %+v, %v", got, err)
	}
	if m, err := l.Message(); err != nil {
		t.Error(err)
	} else if b, _ := io.ReadAll(m); string(b) != "m\n" {
		t.Errorf("after ReplaceEnvelope, Message = %q", b)
	}
	des, _ := os.ReadDir(s.Dir)
	if len(des) != 1 {
		t.Errorf("spool holds %d files, want 1", len(des))
	}
}
