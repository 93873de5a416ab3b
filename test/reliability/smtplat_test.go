//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestSMTPLatency runs the daemon with the shipped configuration (paths
// and addresses changed only: the 30 s rescan, the built-in engine) and
// offers mail over SMTP to the real sendmail at 20 msg/s, measuring each
// message from the end of its SMTP transaction to its qf in the outgoing
// queue. Every message must come out; the figures go to RESULTS.md (the
// goal, p50 < 50 ms and p99 < 250 ms, is a measurement, not a pass mark).
func TestSMTPLatency(t *testing.T) {
	n := 1000
	if relScale().name == "short" {
		n = 200
	}
	const rate = 20
	s := requireStack(t, "sendmail")
	emptyStack(t, s)
	defer s.Empty()
	root := t.TempDir()
	text, err := stackutil.ShippedFor(s, root)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(cfgPath, text, 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, stackutil.Binary(t), cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer d.Shutdown(t)
	var msgs [][]byte
	for i := 0; i < 3; i++ {
		msgs = append(msgs, stackutil.Message("rel", i, "smtplat", false).Raw)
	}
	lat, err := stackutil.SMTPLatency(s.SMTPIn, s.Outgoing, "alice@rel.example", []string{"bob@example.test"}, msgs, n, rate, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var tb table
	tb.head = []string{"messages", "offered msg/s", "p50", "p99", "max"}
	tb.add(lat.N, lat.Rate, lat.P50.Round(100*time.Microsecond), lat.P99.Round(100*time.Microsecond), lat.Max.Round(100*time.Microsecond))
	record(t, 55, fmt.Sprintf("Shipped configuration (rescan_interval 30s, built-in engine), mail submitted over SMTP "+
		"to the stack's sendmail, one session per message; end of the SMTP transaction to qf<ID> in the outgoing queue. "+
		"Goal: p50 < 50 ms, p99 < 250 ms. Scale: %s.", relScale().name), tb)
}
