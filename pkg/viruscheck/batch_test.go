package viruscheck

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/command"
)

// threeAttachments is a message with a text body and three attachments,
// the second of which holds EICAR.
func threeAttachments() *message.Message {
	return &message.Message{
		Header: []byte("Subject: t\n"),
		Body:   []byte("--b\nhello\n--b\n...three attachments...\n--b--\n"),
		Parts: []message.Part{
			{Index: 0, Parent: -1, Path: "1", MIMEPath: "1", Data: []byte("hello\n"), Verbatim: true, DetectedType: "text/plain"},
			{Index: 1, Parent: -1, Path: "2", MIMEPath: "2", Filename: "a.pdf", Data: []byte("%PDF-1.4 clean")},
			{Index: 2, Parent: -1, Path: "3", MIMEPath: "3", Filename: "b.com", Data: []byte(eicar)},
			{Index: 3, Parent: -1, Path: "4", MIMEPath: "4", Filename: "c.txt", Data: []byte("notes")},
		},
	}
}

// fakeClamscan writes a clamscan look-alike that counts its runs (one
// line each in the returned file) and reports every file holding the
// EICAR string, exiting 1 then as clamscan does.
func fakeClamscan(t *testing.T) (path, count string) {
	t.Helper()
	dir := t.TempDir()
	path, count = filepath.Join(dir, "clamscan"), filepath.Join(dir, "count")
	script := `#!/bin/sh
echo run >>` + count + `
for d; do :; done
found=$(grep -rl EICAR-STANDARD "$d")
for f in $found; do echo "$f: Eicar-Test-Signature FOUND"; done
[ -n "$found" ] && exit 1
exit 0
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, count
}

func virusReports(m *message.Message) map[int]string {
	got := map[int]string{}
	for _, r := range m.Reports {
		if r.Kind == message.KindVirus {
			got[r.Part] += r.Engine + ":" + r.Name
		}
	}
	return got
}

// A command-line scanner runs once for a message with three attachments,
// and its verdict lands on the attachment that holds the virus.
func TestCommandScannerOncePerMessage(t *testing.T) {
	path, count := fakeClamscan(t)
	e, err := command.New(command.Options{Preset: command.ClamScan, Path: path, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w := &virus.Watch{Log: quietLog()}
	m := threeAttachments()
	if err := New(nil, Options{Batch: []Batch{w.Wrap("command", e).(virus.BatchScanner)}}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(count)
	if n := strings.Count(string(b), "run\n"); n != 1 {
		t.Errorf("clamscan ran %d times for one message, want 1", n)
	}
	// The whole message holds EICAR too; the part already names it.
	if got := virusReports(m); len(got) != 1 || got[2] != "clamscan:Eicar-Test-Signature" {
		t.Errorf("virus reports by part = %v, want only part 2 (b.com)", got)
	}
}

// Batch and stream engines together: each content gets the findings of
// both; a batch failure holds the message.
func TestBatchBesideStream(t *testing.T) {
	var calls int
	batch := batchFunc(func(contents [][]byte) ([]virus.Result, error) {
		calls++
		res := make([]virus.Result, len(contents))
		for i, c := range contents {
			res[i].Engine = "batch"
			if strings.Contains(string(c), "notes") {
				res[i].Findings = []virus.Finding{virus.NewFinding("batch", "Notes.Virus")}
			}
		}
		return res, nil
	})
	stream := fake{answer: func(data []byte) (virus.Result, error) {
		if strings.Contains(string(data), "EICAR-STANDARD") {
			return virus.Result{Engine: "stream", Findings: []virus.Finding{virus.NewFinding("stream", "Eicar-Test-Signature")}}, nil
		}
		return virus.Result{Engine: "stream"}, nil
	}}
	m := threeAttachments()
	if err := New(stream, Options{Batch: []Batch{batch}}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := virusReports(m); calls != 1 || len(got) != 2 || got[2] != "stream:Eicar-Test-Signature" || got[3] != "batch:Notes.Virus" {
		t.Errorf("batch calls %d, reports by part %v", calls, got)
	}
	failing := batchFunc(func([][]byte) ([]virus.Result, error) { return nil, virus.Errorf("batch", "down") })
	if err := New(stream, Options{Batch: []Batch{failing}}).Check(context.Background(), threeAttachments()); err == nil {
		t.Error("Check with a failing batch engine = nil, want an error (message held)")
	}
	short := batchFunc(func([][]byte) ([]virus.Result, error) { return []virus.Result{{}}, nil })
	if err := New(stream, Options{Batch: []Batch{short}}).Check(context.Background(), threeAttachments()); err == nil {
		t.Error("Check with too few batch results = nil, want an error")
	}
}

type batchFunc func([][]byte) ([]virus.Result, error)

func (f batchFunc) ScanAll(_ context.Context, c [][]byte) ([]virus.Result, error) { return f(c) }

// The real clamscan, with the test stack's signatures, once per message.
func TestRealClamscanOncePerMessage(t *testing.T) {
	if _, err := os.Stat("/usr/bin/clamscan"); err != nil {
		t.Skip("clamscan not installed (apt-get install clamav)")
	}
	db, err := filepath.Abs("../../test/stack")
	if err != nil {
		t.Fatal(err)
	}
	sigs := t.TempDir()
	for _, f := range []string{"test-signatures.hdb", "test-signatures.ndb"} {
		b, err := os.ReadFile(filepath.Join(db, f))
		if err != nil {
			t.Skipf("test stack signatures: %v", err)
		}
		os.WriteFile(filepath.Join(sigs, f), b, 0o644)
	}
	e, err := command.New(command.Options{Preset: command.ClamScan, Args: []string{"--database=" + sigs}, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m := threeAttachments()
	if err := New(nil, Options{Batch: []Batch{e}}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := virusReports(m); len(got) != 1 || !strings.HasPrefix(got[2], "clamscan:Eicar-Test-Signature") {
		t.Errorf("virus reports by part = %v, want only part 2 (b.com)", got)
	}
}

func quietLog() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}
