package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
)

// nestOut gives the outgoing queue the sub-directories subs.
func (e *env) nestOut(subs ...string) {
	e.t.Helper()
	for _, s := range subs {
		if err := os.Mkdir(filepath.Join(e.out, s), 0o700); err != nil {
			e.t.Fatal(err)
		}
	}
}

// TestNestedOutgoing: with qf/ df/ xf/ in the outgoing queue, qf files go
// into out/qf and df files into out/df (the unchanged body as a hard link,
// a cleaned body and a postmaster report written there), nothing at the
// top, no temporary file left.
func TestNestedOutgoing(t *testing.T) {
	e := newEnv(t)
	e.nestOut("qf", "df", "xf")
	e.enqueue("6AM876nc000101", "clean body\n", 2*time.Minute)
	e.enqueue("6AM876nc000102", "infected body\n", time.Minute)
	inDf, _ := os.Stat(filepath.Join(e.in, "df6AM876nc000101"))
	opt := e.options()
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	opt.Notifier = &fakeNotifier{}
	p := e.pipeline(opt, stageFunc{"virus", func(ctx2 context.Context, m *message.Message) error {
		if m.ID == "6AM876nc000102" {
			return infect.f(ctx2, m)
		}
		return nil
	}})
	if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 2 {
		t.Fatalf("RunBatch = %+v, %v; want 2 delivered", st, err)
	}
	if got := names(t, e.out); strings.Join(got, " ") != "df qf xf" {
		t.Errorf("top of the outgoing queue = %v, want only df qf xf", got)
	}
	qfs, dfs := names(t, filepath.Join(e.out, "qf")), names(t, filepath.Join(e.out, "df"))
	if len(qfs) != 3 || len(dfs) != 3 { // two messages and the postmaster report
		t.Fatalf("out/qf = %v, out/df = %v; want 3 qf and 3 df", qfs, dfs)
	}
	for i := range qfs {
		if !strings.HasPrefix(qfs[i], "qf") || !strings.HasPrefix(dfs[i], "df") || qfs[i][2:] != dfs[i][2:] {
			t.Errorf("out/qf = %v, out/df = %v; want qf<ID> and df<ID> pairs", qfs, dfs)
		}
	}
	outDf, err := os.Stat(filepath.Join(e.out, "df", "df6AM876nc000101"))
	if err != nil || !os.SameFile(inDf, outDf) {
		t.Errorf("out/df/df6AM876nc000101: %v; want a hard link of the incoming df", err)
	}
	if got := readFile(t, filepath.Join(e.out, "df", "df6AM876nc000102")); got != "cleaned body\n" {
		t.Errorf("cleaned body = %q", got)
	}
}

// TestHalfNestedOutgoing: sendmail looks at each sub-directory on its own,
// so with only df/ the qf files stay at the top.
func TestHalfNestedOutgoing(t *testing.T) {
	e := newEnv(t)
	e.nestOut("df")
	e.enqueue("6AM876nc000103", "body\n", 0)
	if st, err := e.pipeline(e.options()).RunBatch(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if got := strings.Join(names(t, e.out), " "); got != "df qf6AM876nc000103" {
		t.Errorf("outgoing = %s, want df/ and qf6AM876nc000103", got)
	}
	if got := names(t, filepath.Join(e.out, "df")); strings.Join(got, " ") != "df6AM876nc000103" {
		t.Errorf("out/df = %v", got)
	}
}

// TestNestedRecovery: a batch committed before a crash is finished in the
// nested layout it was written in.
func TestNestedRecovery(t *testing.T) {
	e := newEnv(t)
	e.nestOut("qf", "df")
	id := "6AM876nc000104"
	e.enqueue(id, "body\n", 0)
	qfIn, dfIn := filepath.Join(e.in, "qf"+id), filepath.Join(e.in, "df"+id)
	os.MkdirAll(e.work, 0o700)
	ent := entry{InQf: qfIn, InDf: dfIn, InInode: inode(t, qfIn), OutDir: e.out, OutSubQf: true, OutSubDf: true, OutID: id} // the form of journals before the queue seam: upgraded when read
	var j strings.Builder
	writeRec(&j, record{Batch: 1, Op: opPrepare, Entries: []entry{ent}})
	writeRec(&j, record{Batch: 1, Op: opCommit})
	os.Link(dfIn, filepath.Join(e.out, "df", "df"+id))
	os.WriteFile(filepath.Join(e.out, "qf", "tf"+id), []byte(readFile(t, qfIn)), 0o600)
	os.WriteFile(filepath.Join(e.work, "journal"), []byte(j.String()), 0o600)
	e.pipeline(e.options())
	if got := strings.Join(names(t, filepath.Join(e.out, "qf")), " "); got != "qf"+id {
		t.Errorf("after recovery out/qf = %s, want qf%s", got, id)
	}
	if got := names(t, e.in); len(got) != 0 {
		t.Errorf("after recovery incoming = %v, want released", got)
	}
}
