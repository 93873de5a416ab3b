package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
	"github.com/qscan/qscan/pkg/spam"
)

// TestActionHeaders: a spam action's header gives way to the field of the
// same name that the spam headers set (one X-Spam-Status), and replaces a
// field of its name that came with the message (one X-Junk, ours).
func TestActionHeaders(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000090", "buy now\n", 0)
	qfPath := filepath.Join(e.in, "qf6AM876nc000090")
	qf := strings.Replace(readFile(t, qfPath), "H??From:", "H??X-Junk: no\nH??From:", 1)
	os.WriteFile(qfPath, []byte(qf), 0o600)
	opt := e.options()
	opt.Checker = CheckerOptions{
		Policy: func(*message.Message) policy.Settings {
			return policy.Settings{DeliverCleaned: true, CleanValue: "clean",
				SpamActions: acts("deliver", `header "X-Spam-Status: Yes"`, `header "X-Junk: yes"`)}
		},
		SpamHeaders: func(*message.Message) ([]message.HeaderEdit, error) {
			return []message.HeaderEdit{{Op: message.HeaderAdd, Name: "X-Spam-Status", Value: "Yes, score=7.0 required=5.0"}}, nil
		},
	}
	p := e.pipeline(opt, stageFunc{"spam", func(_ context.Context, m *message.Message) error {
		m.Spam = &message.SpamResult{Level: "spam", Score: 7, Required: 5}
		return nil
	}})
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v", st)
	}
	out := readFile(t, filepath.Join(e.out, "qf6AM876nc000090"))
	for _, tc := range []struct{ name, want string }{
		{"X-Spam-Status", "H??X-Spam-Status: Yes, score=7.0 required=5.0"},
		{"X-Junk", "H??X-Junk: yes"},
	} {
		if n := strings.Count(out, tc.name+":"); n != 1 || !hasLine(out, tc.want) {
			t.Errorf("outgoing qf has %d %s fields, want one %q:\n%s", n, tc.name, tc.want, out)
		}
	}
}

// acts parses a spam action list, as the configuration is parsed.
func acts(words ...string) message.SpamActions {
	as, err := spam.ParseActions(strings.Join(words, " "))
	if err != nil {
		panic(err)
	}
	return as
}
