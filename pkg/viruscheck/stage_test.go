package viruscheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func testMsg() *message.Message {
	return &message.Message{
		Header: []byte("Subject: t\n"),
		Body:   []byte("--b\n...base64 of the zip...\n--b--\n"),
		Parts: []message.Part{
			{Index: 0, Parent: -1, Path: "1", MIMEPath: "1", Data: []byte("hello")},
			{Index: 1, Parent: -1, Path: "2", MIMEPath: "2", Filename: "a.zip", Data: []byte("PK...")},
			{Index: 2, Parent: 1, Path: "2/a.zip/eicar\u202ecom", MIMEPath: "2", Filename: "eicar\u202ecom", Data: []byte(eicar)},
		},
	}
}

func TestBuiltinFindsMember(t *testing.T) {
	eng, err := builtin.New(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMsg()
	if err := New(virus.NewMulti(eng), Options{}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(m.Reports) != 1 {
		t.Fatalf("reports = %+v, want one", m.Reports)
	}
	r := m.Reports[0]
	if r.Kind != message.KindVirus || r.Part != 2 || r.Name != "Eicar-Test-Signature" || r.Action != message.ActionReplace {
		t.Errorf("report = %+v", r)
	}
	if want := "Virus 'Eicar-Test-Signature' found in file eicar?com"; r.Text != want {
		t.Errorf("text = %q, want %q (bidi control replaced)", r.Text, want)
	}
}

// fake answers per content.
type fake struct {
	answer func(data []byte) (virus.Result, error)
}

func (f fake) Scan(_ context.Context, r io.Reader) (virus.Result, error) {
	b, _ := io.ReadAll(r)
	return f.answer(b)
}

func TestEngineFailureHolds(t *testing.T) {
	down := fake{func(b []byte) (virus.Result, error) {
		if bytes.Contains(b, []byte("PK")) {
			return virus.Result{}, virus.Errorf("clamd", "instream: connection refused")
		}
		return virus.Result{}, nil
	}}
	m := testMsg()
	err := New(down, Options{}).Check(context.Background(), m)
	if !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Check with engine down = %v, want ErrUnavailable", err)
	}
}

func TestWholeMessageAndPolicies(t *testing.T) {
	whole := fake{func(b []byte) (virus.Result, error) {
		if bytes.HasPrefix(b, []byte("Subject")) {
			return virus.Result{Findings: []virus.Finding{virus.NewFinding("clamd", "Email.Phish.X")}}, nil
		}
		if bytes.Equal(b, []byte("hello")) {
			return virus.Result{Findings: []virus.Finding{virus.NewFinding("clamd", "Heuristics.Encrypted.Zip")}}, nil
		}
		if bytes.Equal(b, []byte("PK...")) {
			return virus.Result{LimitExceeded: true}, nil
		}
		return virus.Result{}, nil
	}}
	m := testMsg()
	err := New(whole, Options{}).Check(context.Background(), m)
	if !errors.Is(err, ErrUnscannable) {
		t.Fatalf("too-large part with deliver_unscannable off: %v, want ErrUnscannable", err)
	}
	m = testMsg()
	if err := New(whole, Options{DeliverUnscannable: true, Heuristics: "report", Silent: func(n string) bool { return strings.HasPrefix(n, "Email.") }}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	kinds := map[message.ReportKind]int{}
	for _, r := range m.Reports {
		kinds[r.Kind]++
		if r.Kind == message.KindVirus && (r.Part != -1 || !r.Silent) {
			t.Errorf("whole-message virus report = %+v, want part -1, silent", r)
		}
	}
	if kinds[message.KindVirus] != 1 || kinds[message.KindContent] != 1 || kinds[message.KindError] != 1 {
		t.Errorf("reports = %+v", m.Reports)
	}
}

// A plain-text body that stands verbatim in the message is scanned within
// the whole message only, unless ScanTextBodies; attachments and decoded
// text always on their own.
func TestTextBodiesScannedWhole(t *testing.T) {
	body := []byte("just text\n")
	parts := []message.Part{
		{Index: 0, Parent: -1, Path: "1", DeclaredType: "text/plain", DetectedType: "text/plain", Data: body, Verbatim: true},
		{Index: 1, Parent: -1, Path: "2", DeclaredType: "text/plain", DetectedType: "text/plain", Filename: "notes.txt", Data: []byte("attached\n"), Verbatim: true},
		{Index: 2, Parent: -1, Path: "3", DeclaredType: "text/plain", DetectedType: "text/plain", Data: []byte("was base64\n")},
		{Index: 3, Parent: -1, Path: "4", DeclaredType: "text/html", DetectedType: "text/html", Data: []byte("<p>html</p>\n"), Verbatim: true},
		{Index: 4, Parent: 1, Path: "2/x.txt", DeclaredType: "text/plain", DetectedType: "text/plain", Data: []byte("member\n"), Verbatim: true},
	}
	for _, c := range []struct {
		all  bool
		want []string
	}{
		{false, []string{"whole", "attached\n", "was base64\n", "<p>html</p>\n", "member\n"}},
		{true, []string{"whole", "just text\n", "attached\n", "was base64\n", "<p>html</p>\n", "member\n"}},
	} {
		var mu sync.Mutex
		var seen []string
		count := fake{func(b []byte) (virus.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			if bytes.HasPrefix(b, []byte("Subject:")) {
				seen = append(seen, "whole")
			} else {
				seen = append(seen, string(b))
			}
			return virus.Result{}, nil
		}}
		m := &message.Message{Header: []byte("Subject: t\n"), Body: body, Parts: parts}
		if err := New(count, Options{ScanTextBodies: c.all, Concurrency: 1}).Check(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		sort.Strings(seen)
		sort.Strings(c.want)
		if strings.Join(seen, "|") != strings.Join(c.want, "|") {
			t.Errorf("ScanTextBodies=%v: scanned %q, want %q", c.all, seen, c.want)
		}
	}
}

// When the whole message is infected, the text bodies are scanned on their
// own after all, so that the finding names the body (which is then
// replaced) rather than the whole message.
func TestInfectedTextBodyNamed(t *testing.T) {
	eng, err := builtin.New(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("hello\n" + eicar + "\n")
	m := &message.Message{Header: []byte("Subject: t\n"), Body: body, Parts: []message.Part{
		{Index: 0, Parent: -1, Path: "1", MIMEPath: "1", DeclaredType: "text/plain", DetectedType: "text/plain", Data: body, Verbatim: true},
	}}
	if err := New(virus.NewMulti(eng), Options{}).Check(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(m.Reports) != 1 || m.Reports[0].Part != 0 || m.Reports[0].Action != message.ActionReplace {
		t.Fatalf("reports = %+v, want one for part 0 (replace)", m.Reports)
	}
}

// A whole message too large for the engine leaves the text body unread
// there: it is scanned on its own.
func TestTextBodyScannedWhenWholeTooLarge(t *testing.T) {
	body := []byte("just text\n")
	var mu sync.Mutex
	scanned := 0
	eng := fake{func(b []byte) (virus.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		scanned++
		if bytes.HasPrefix(b, []byte("Subject:")) {
			return virus.Result{LimitExceeded: true}, nil
		}
		return virus.Result{}, nil
	}}
	m := &message.Message{Header: []byte("Subject: t\n"), Body: body, Parts: []message.Part{
		{Index: 0, Parent: -1, Path: "1", DeclaredType: "text/plain", DetectedType: "text/plain", Data: body, Verbatim: true},
	}}
	New(eng, Options{DeliverUnscannable: true}).Check(context.Background(), m)
	if scanned != 2 {
		t.Errorf("%d scans, want 2 (the whole message, then the body)", scanned)
	}
}

// starts counts the scans a fake engine started.
type starts struct {
	mu      sync.Mutex
	started int
}

// start counts a scan and reports whether it is the first.
func (s *starts) start() (first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started++
	return s.started == 1
}

// ctxFake fails its first scan and blocks the others until their context
// ends, counting the scans started.
type ctxFake struct{ starts }

func (f *ctxFake) Scan(ctx context.Context, _ io.Reader) (virus.Result, error) {
	if f.start() {
		return virus.Result{}, virus.Errorf("fake", "hung engine: timeout")
	}
	<-ctx.Done()
	return virus.Result{}, virus.Errorf("fake", "cancelled: %v", ctx.Err())
}

// The first engine failure stops the message's other scans: a hung
// engine costs one timeout per message, not one per round of scans.
func TestFirstFailureStopsScans(t *testing.T) {
	m := &message.Message{Header: []byte("Subject: t\n"), Body: []byte("x\n")}
	for i := 0; i < 8; i++ {
		m.Parts = append(m.Parts, message.Part{Index: i, Parent: -1, Path: fmt.Sprint(i + 1), Filename: fmt.Sprintf("f%d.bin", i), Data: []byte{byte(i)}})
	}
	f := &ctxFake{}
	err := New(f, Options{Concurrency: 2}).Check(context.Background(), m)
	if !errors.Is(err, virus.ErrUnavailable) || !strings.Contains(err.Error(), "hung engine") {
		t.Fatalf("Check = %v, want the first failure", err)
	}
	if f.started > 3 {
		t.Errorf("%d of 9 scans started after the first failed, want at most 3", f.started)
	}
}

// probeFake is an engine that is down: the first scan tests it and waits
// for release (or its context); the others are turned away as
// virus.Health.Admit would.
type probeFake struct {
	release  chan struct{}
	canceled chan bool // the test scan's fate: true if its context ended
	starts
}

func (f *probeFake) Scan(ctx context.Context, _ io.Reader) (virus.Result, error) {
	if !f.start() {
		return virus.Result{}, virus.Errorf("fake", "down: %w", virus.ErrNotTried)
	}
	select {
	case <-f.release:
		f.canceled <- false
		return virus.Result{Engine: "fake"}, nil
	case <-ctx.Done():
		f.canceled <- true
		return virus.Result{}, virus.Errorf("fake", "cancelled: %v", ctx.Err())
	}
}

// Scans turned away while the engine is down hold the message but do not
// cancel the message's scan that tests the engine: otherwise a message of
// several parts would cancel every test and the engine would never be
// seen coming back.
func TestNotTriedDoesNotStopTheTest(t *testing.T) {
	m := testMsg()
	f := &probeFake{release: make(chan struct{}), canceled: make(chan bool, 1)}
	done := make(chan error, 1)
	go func() { done <- New(f, Options{Concurrency: 4}).Check(context.Background(), m) }()
	// The other scans have been turned away by the time the test is let
	// go; were they to cancel it, it would already have reported so.
	for {
		f.mu.Lock()
		n := f.started
		f.mu.Unlock()
		if n >= 3 {
			break
		}
		runtime.Gosched()
	}
	close(f.release)
	if <-f.canceled {
		t.Errorf("the scan testing the engine was cancelled by scans that were not tried")
	}
	err := <-done
	if !errors.Is(err, virus.ErrUnavailable) || !errors.Is(err, virus.ErrNotTried) {
		t.Errorf("Check = %v, want the message held (ErrUnavailable, ErrNotTried)", err)
	}
}
