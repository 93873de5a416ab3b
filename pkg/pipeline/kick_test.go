package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/qscan/qscan/pkg/sendmail"
)

// TestKickFailureLoggedOnce: a kick that keeps failing (sendmail refuses
// user qscan a queue run: exit 77, "You do not have permission to process
// the queue") is logged once when it starts failing, with sendmail's
// reason, and once when it works again; not once per batch.
func TestKickFailureLoggedOnce(t *testing.T) {
	e := newEnv(t)
	hook := logtest.NewLocal(e.log)
	dir := t.TempDir()
	works := filepath.Join(dir, "works")
	fake := filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\n[ -e " + works + " ] && exit 0\necho 'You do not have permission to process the queue'\nexit 77\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opt := e.options()
	opt.Kick = SendmailKicker{sendmail.Kicker{Sendmail: fake}}
	p := e.pipeline(opt)
	for i, ok := range []bool{false, false, false, true, true, false, false} {
		if ok {
			os.WriteFile(works, nil, 0o644)
		} else {
			os.Remove(works)
		}
		e.enqueue(fmt.Sprintf("6AM876nc%06d", i), "x\n", 0)
		if st, err := p.RunBatch(ctx); err != nil || st.Delivered != 1 {
			t.Fatalf("batch %d: RunBatch = %+v, %v", i, st, err)
		}
		p.kicks.Wait()
	}
	var got []string
	for _, en := range hook.AllEntries() {
		if strings.Contains(en.Message, "kick") {
			got = append(got, en.Level.String()+": "+en.Message)
		}
	}
	want := []struct {
		level logrus.Level
		text  string
	}{
		{logrus.WarnLevel, "You do not have permission to process the queue"},
		{logrus.InfoLevel, "works again"},
		{logrus.WarnLevel, "You do not have permission to process the queue"},
	}
	if len(got) != len(want) {
		t.Fatalf("kick log lines:\n%s\nwant %d: failing, working again, failing", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w.level.String()+": ") || !strings.Contains(got[i], w.text) {
			t.Errorf("kick log line %d = %q, want %s with %q", i, got[i], w.level, w.text)
		}
	}
}
