package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/policy"
)

// TestRemoveHeaders: the fields Headers.Remove names are taken out of the
// delivered message; the others stay.
func TestRemoveHeaders(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000190", "hello\n", 0)
	qfPath := filepath.Join(e.in, "qf6AM876nc000190")
	qf := strings.Replace(readFile(t, qfPath), "H??From:", "H??X-Mozilla-Status: 0001\nH??X-Keep: yes\nH??From:", 1)
	if err := os.WriteFile(qfPath, []byte(qf), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := e.options()
	opt.Headers.Remove = func(*message.Message) []string { return []string{"X-Mozilla-Status"} }
	opt.Checker = CheckerOptions{Policy: func(*message.Message) policy.Settings {
		return policy.Settings{DeliverCleaned: true, CleanValue: "clean"}
	}}
	p := e.pipeline(opt)
	if st, _ := p.RunBatch(ctx); st.Delivered != 1 {
		t.Fatalf("RunBatch = %+v", st)
	}
	out := readFile(t, filepath.Join(e.out, "qf6AM876nc000190"))
	if strings.Contains(out, "X-Mozilla-Status") || !strings.Contains(out, "X-Keep: yes") {
		t.Errorf("outgoing qf:\n%s", out)
	}
}
