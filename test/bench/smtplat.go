package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// runSMTPLatency starts the daemon with the shipped configuration (paths
// and addresses changed only: the 30 s rescan, the built-in engine)
// between the stack's two sendmail queues, submits n messages over SMTP
// to the stack's incoming sendmail at rate per second, and measures the
// end of each SMTP transaction to its qf in the outgoing queue.
func runSMTPLatency(bin, root string, n, rate int) (stackutil.Latencies, error) {
	if err := stackutil.Status("sendmail"); err != nil {
		return stackutil.Latencies{}, fmt.Errorf("the stack's sendmail is not up (scripts/teststack start): %w", err)
	}
	s, err := stackutil.Env()
	if err != nil {
		return stackutil.Latencies{}, err
	}
	if err := s.Empty(); err != nil {
		return stackutil.Latencies{}, err
	}
	cfg, err := stackutil.ShippedFor(s, root)
	if err != nil {
		return stackutil.Latencies{}, err
	}
	path := filepath.Join(root, "qscan.toml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		return stackutil.Latencies{}, err
	}
	var stderr bytes.Buffer
	d, err := stackutil.NewDaemon(bin, path, stackutil.DaemonOpts{Log: &stderr})
	if err != nil {
		return stackutil.Latencies{}, err
	}
	defer func() {
		d.Stop()
		s.Empty() // the bench's mail is not for delivery
	}()
	// The daemon's start-up scan is not what is measured.
	time.Sleep(time.Second)
	lat, err := stackutil.SMTPLatency(s.SMTPIn, s.Outgoing, "bench@example.org", []string{"bob@example.test"}, plainMessages(), n, rate, 2*time.Minute)
	if err != nil {
		return lat, fmt.Errorf("%w\n%s", err, tail(stderr.Bytes(), 2000))
	}
	return lat, nil
}

// plainMessages are what the SMTP latency run sends: mail every check
// passes, so that each one reaches the outgoing queue (the bench's mix
// holds viruses and corrupt mail, which stay out of it by design).
func plainMessages() [][]byte {
	var out [][]byte
	for i, size := range []int{200, 2000, 20000} {
		body := strings.Repeat("All quiet on the loopback front. ", size/33+1)
		out = append(out, []byte(fmt.Sprintf("From: bench@example.org\r\nTo: bob@example.test\r\nSubject: latency %d\r\n"+
			"Message-ID: <latency-%d@bench.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n%s\r\n", i, i, body)))
	}
	return out
}
