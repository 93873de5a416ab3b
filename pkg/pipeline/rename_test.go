package pipeline

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
)

type renameCleaner struct{ got []message.Replacement }

func (f *renameCleaner) Clean(m *message.Message, d *message.Decision) ([]byte, []message.HeaderEdit, error) {
	f.got = d.Rename
	return []byte("renamed body\n"), nil, nil
}

// TestRenamedDelivery: a rename report gets the message rebuilt and
// delivered, nothing quarantined, no postmaster report.
func TestRenamedDelivery(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000170", "original body\n", 0)
	opt := e.options()
	cl, nt := &renameCleaner{}, &fakeNotifier{}
	opt.Checker = CheckerOptions{Cleaner: cl, Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean"}
	}}
	opt.Notifier = nt
	p := e.pipeline(opt, stageFunc{"content", func(_ context.Context, m *message.Message) error {
		m.Parts = []message.Part{{Index: 0, Parent: -1, MIMEPath: "1"}, {Index: 1, Parent: -1, MIMEPath: "2", Filename: "show.pps"}}
		m.AddReport(message.Report{Kind: message.KindFilename, Part: 1, Text: "Filename: show.pps: renamed to show.ppt",
			Action: message.ActionRename, Rename: "show.ppt"})
		return nil
	}})
	st, err := p.RunBatch(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v, %v", st, err)
	}
	if len(cl.got) != 1 || cl.got[0].MIMEPath != "2" || cl.got[0].Rename != "show.ppt" {
		t.Errorf("cleaner got renames %+v", cl.got)
	}
	if got := readFile(t, filepath.Join(e.out, "df6AM876nc000170")); got != "renamed body\n" {
		t.Errorf("outgoing body = %q", got)
	}
	if q := quarantineEntries(t, e.quar); len(q) != 0 {
		t.Errorf("quarantine = %v, want nothing", q)
	}
	if len(nt.got) != 0 {
		t.Errorf("postmaster notices = %d, want none", len(nt.got))
	}
}
