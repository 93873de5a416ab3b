package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/policy"
)

type fakeCleaner struct{ got []message.Replacement }

func (f *fakeCleaner) Clean(m *message.Message, d *message.Decision) ([]byte, []message.HeaderEdit, error) {
	f.got = d.Replace
	return []byte("cleaned body\n"), []message.HeaderEdit{{Op: message.HeaderReplace, Name: "Content-Type", Value: "multipart/mixed; boundary=x"}}, nil
}

type fakeNotifier struct{ got []notify.Event }

func (f *fakeNotifier) Sender(notify.Event) (*notify.Queued, error) { return nil, nil }
func (f *fakeNotifier) Spam(n notify.Event) ([]notify.Queued, error) {
	if !n.NotifyRecipients {
		return nil, nil
	}
	return []notify.Queued{{Recipients: n.Envelope.Recipients, Header: []byte("Subject: {Spam not delivered}\n"), Body: []byte("notice\n")}}, nil
}

func (f *fakeNotifier) Postmaster(ns []notify.Event) ([]notify.Queued, error) {
	f.got = ns
	var about []string
	for _, n := range ns {
		about = append(about, n.ID)
	}
	return []notify.Queued{{Recipients: []string{"postmaster@example.test"}, Header: []byte("Subject: Warning: E-mail viruses detected\nFrom: postmaster\n"), Body: []byte("report\n"), About: about}}, nil
}

// infect is a stage that finds a virus in the second part.
var infect = stageFunc{"virus", func(_ context.Context, m *message.Message) error {
	m.Parts = []message.Part{{Index: 0, Parent: -1, MIMEPath: "1"}, {Index: 1, Parent: -1, MIMEPath: "2", Filename: "eicar.com", Data: []byte("X5O!")}}
	m.AddReport(message.Report{Kind: message.KindVirus, Part: 1, Name: "Eicar-Test-Signature", Text: "Virus 'Eicar-Test-Signature' found in file eicar.com", Action: message.ActionReplace})
	return nil
}}

// TestCleanedDelivery: the infected part is replaced, the original and the
// part are quarantined, the postmaster report is committed with the batch.
func TestCleanedDelivery(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000070", "original body\n", 0)
	opt := e.options()
	cl, nt := &fakeCleaner{}, &fakeNotifier{}
	opt.Checker = CheckerOptions{Cleaner: cl, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "Found to be infected"}
	}}
	opt.Notifier = nt
	p := e.pipeline(opt, infect)
	st, err := p.RunBatch(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if len(cl.got) != 1 || cl.got[0].MIMEPath != "2" {
		t.Errorf("cleaner got %+v", cl.got)
	}
	if got := readFile(t, filepath.Join(e.out, "df6AM876nc000070")); got != "cleaned body\n" {
		t.Errorf("outgoing body = %q", got)
	}
	qf := readFile(t, filepath.Join(e.out, "qf6AM876nc000070"))
	for _, want := range []string{"H??X-test-QScan: Found to be infected", "Content-Type: multipart/mixed; boundary=x"} {
		if !strings.Contains(qf, want) {
			t.Errorf("qf lacks %q:\n%s", want, qf)
		}
	}
	entries := quarantineEntries(t, e.quar)
	if len(entries) != 1 {
		t.Fatalf("quarantine = %v", entries)
	}
	dir := filepath.Join(e.quar, "20261122", entries[0])
	if got := readFile(t, filepath.Join(dir, "df6AM876nc000070")); got != "original body\n" {
		t.Errorf("quarantined original = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "part-1")); got != "X5O!" {
		t.Errorf("quarantined part = %q", got)
	}
	var meta struct{ Whole bool }
	json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "metadata.json"))), &meta)
	if meta.Whole {
		t.Error("metadata says whole, the message was delivered cleaned")
	}
	if len(nt.got) != 1 || nt.got[0].ID != "6AM876nc000070" || !nt.got[0].Delivered {
		t.Errorf("notices = %+v", nt.got)
	}
	// The report is its own message in the outgoing queue, from <>.
	var reports int
	for _, n := range names(t, e.out) {
		if strings.HasPrefix(n, "qf") && n != "qf6AM876nc000070" {
			reports++
			r := readFile(t, filepath.Join(e.out, n))
			if !hasLine(r, "S<>") || !strings.Contains(r, "postmaster@example.test") || !strings.Contains(r, "Warning: E-mail viruses detected") {
				t.Errorf("report qf:\n%s", r)
			}
		}
	}
	if reports != 1 {
		t.Errorf("%d report messages in the outgoing queue, want 1: %v", reports, names(t, e.out))
	}
	if _, err := os.Stat(filepath.Join(e.in, "qf6AM876nc000070")); !os.IsNotExist(err) {
		t.Error("incoming not released")
	}
}

// TestSpamForwardAndStore: "forward ADDR" without "deliver" sends the
// message to ADDR only; "deliver store" delivers and keeps a copy.
func TestSpamForwardAndStore(t *testing.T) {
	spammy := stageFunc{"spam", func(_ context.Context, m *message.Message) error {
		m.Spam = &message.SpamResult{Level: "spam", Score: 7, Required: 5}
		return nil
	}}
	for _, tc := range []struct {
		actions []string
		rcpt    string
		notRcpt string
		stored  int
	}{
		{[]string{"forward spam@example.org"}, "RP:<spam@example.org>", "RPFD:<b@example.test>", 0},
		{[]string{"deliver", "store"}, "RPFD:<b@example.test>", "spam@example.org", 1},
	} {
		e := newEnv(t)
		e.enqueue("6AM876nc000080", "buy now\n", 0)
		opt := e.options()
		opt.Checker = CheckerOptions{Policy: func(*message.Message) policy.Settings {
			return policy.Settings{DeliverCleaned: true, SpamActions: acts(tc.actions...), CleanValue: "clean"}
		}}
		p := e.pipeline(opt, spammy)
		if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
			t.Fatalf("%v: RunBatch = %+v", tc.actions, st)
		}
		qf := readFile(t, filepath.Join(e.out, "qf6AM876nc000080"))
		if !strings.Contains(qf, tc.rcpt) || strings.Contains(qf, tc.notRcpt) {
			t.Errorf("%v: outgoing qf recipients wrong:\n%s", tc.actions, qf)
		}
		if got := len(quarantineEntries(t, e.quar)); got != tc.stored {
			t.Errorf("%v: %d quarantine copies, want %d", tc.actions, got, tc.stored)
		}
	}
}

// TestSpamNotify: "store notify" keeps the message back and tells its
// recipients, without a postmaster report.
func TestSpamNotify(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000090", "buy now\n", 0)
	opt := e.options()
	nt := &fakeNotifier{}
	opt.Notifier = nt
	opt.Checker = CheckerOptions{Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, HighSpamActions: acts("store", "notify"), CleanValue: "clean"}
	}}
	p := e.pipeline(opt, stageFunc{"spam", func(_ context.Context, m *message.Message) error {
		m.Spam = &message.SpamResult{Level: "high", Score: 20, Required: 5}
		return nil
	}})
	if st, _ := p.RunBatch(ctx); st.Quarantined != 1 {
		t.Fatalf("RunBatch = %+v, want the spam stored", st)
	}
	if len(nt.got) != 0 {
		t.Errorf("postmaster report for spam: %+v", nt.got)
	}
	out := names(t, e.out)
	if len(out) != 2 {
		t.Fatalf("outgoing = %v, want the notice only", out)
	}
	for _, n := range out {
		if strings.HasPrefix(n, "qf") {
			qf := readFile(t, filepath.Join(e.out, n))
			if !strings.Contains(qf, "RPFD:<b@example.test>") || !strings.Contains(qf, "Spam not delivered") || !hasLine(qf, "S<>") {
				t.Errorf("notice qf:\n%s", qf)
			}
		}
	}
}

// TestCommitFailureIsNotPoison: when the outgoing queue cannot be written
// (full disk, here: gone), the message stays, its attempts are not used
// up, the quarantine copy of the failed try is removed, and it goes out
// once the queue is back.
func TestCommitFailureIsNotPoison(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000099", "original body\n", 0)
	opt := e.options()
	opt.Checker = CheckerOptions{Cleaner: &fakeCleaner{}, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean", InfectedValue: "infected"}
	}}
	p := e.pipeline(opt, infect)
	os.Remove(e.out)
	for i := 0; i < 2*opt.MaxAttempts; i++ {
		st, err := p.RunBatch(ctx)
		if err != nil || st.Delivered != 0 || st.Held != 1 {
			t.Fatalf("try %d with no outgoing queue: %+v, %v", i, st, err)
		}
		e.advance(10 * time.Minute)
	}
	if rows, _ := e.st.Attempts(ctx, 1); len(rows) != 0 {
		t.Errorf("failed commits counted as attempts: %+v", rows)
	}
	if got := quarantineEntries(t, e.quar); len(got) != 0 {
		t.Errorf("quarantine copies left by failed tries: %v", got)
	}
	os.Mkdir(e.out, 0o700)
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Fatalf("after the queue is back: %+v", st)
	}
	if got := quarantineEntries(t, e.quar); len(got) != 1 {
		t.Errorf("quarantine = %v, want one copy", got)
	}
}
