package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/test/stackutil"
)

// result is one measured run.
type result struct {
	msgs   int
	bytes  int64 // message bytes (qf header + df body as generated)
	wall   time.Duration
	cpu    time.Duration // CPU of qscan (or of the bench for the floor)
	maxRSS int64         // KiB; 0: not measured
	sent   int64         // bytes sent to clamd and spamd; -1: none or unknown
	engCPU time.Duration // CPU of clamd and spamd during the run; -1: unknown
	// engCPUBy is engCPU by daemon; nil when unknown.
	engCPUBy map[string]time.Duration
	// inFlight is the mean number of requests open to each engine during
	// the run, e.g. "clamd 3.1, spamd 3.9"; "" when no engine was used.
	inFlight string
	// reqs counts the requests (connections) to each engine, by daemon.
	reqs map[string]int64
	// mid is the engines' CPU over the middle of the run; nil: unknown.
	mid *span
}

// fill queues msgs into dir as sendmail would and returns their IDs.
func fill(dir string, msgs [][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	gen := sendmail.NewIDGen(time.Now, os.Getpid(), 0)
	ids := make([]string, len(msgs))
	for i, raw := range msgs {
		id, err := enqueue(dir, gen, raw)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// queueForm splits a message into the qf and df of the bench's queue.
func queueForm(raw []byte) (*sendmail.Qf, []byte, error) {
	hdr, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hdr, body = raw[:i+1], raw[i+2:]
	}
	qf, err := sendmail.NewQf("bench@example.org", []string{"rcpt@example.test"}, hdr,
		sendmail.NewOpts{Time: time.Now(), ClientIP: netip.MustParseAddr("192.0.2.7"), ClientHost: "client.example", Helo: "client.example", Protocol: "ESMTP", BodySize: int64(len(body))})
	if err != nil {
		return nil, nil, fmt.Errorf("build qf: %w", err)
	}
	return qf, body, nil
}

// asQueued returns the messages as qscan reads them from the queue (the
// qf's header block, with sendmail's Return-Path first, then the df): what
// the engine-alone clients scan, so that every client sends an engine the
// same files. clamd takes a stream that opens with a Return-Path for mail
// and parses its MIME parts (1.6-1.7 times the work, measured), which it
// does not for a stream that opens with another header.
func asQueued(msgs [][]byte) ([][]byte, error) {
	out := make([][]byte, len(msgs))
	for i, raw := range msgs {
		qf, body, err := queueForm(raw)
		if err != nil {
			return nil, err
		}
		out[i] = append(append(qf.HeaderBlock(), '\n'), body...)
	}
	return out, nil
}

// enqueue writes one message (df, then tf renamed to qf).
func enqueue(dir string, gen *sendmail.IDGen, raw []byte) (string, error) {
	qf, body, err := queueForm(raw)
	if err != nil {
		return "", err
	}
	id := gen.Next()
	if err := os.WriteFile(filepath.Join(dir, "df"+id), body, 0o600); err != nil {
		return "", err
	}
	tf := filepath.Join(dir, "tf"+id)
	if err := os.WriteFile(tf, qf.Bytes(), 0o600); err != nil {
		return "", err
	}
	return id, os.Rename(tf, filepath.Join(dir, "qf"+id))
}

// runFloor moves the messages with only the bare safe file operations:
// read qf, link df, write+fsync+rename qf, unlink qf and df, with one
// fsync of each directory per batch of 30.
func runFloor(root string, msgs [][]byte) (result, error) {
	in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
	ids, err := fill(in, msgs)
	if err != nil {
		return result{}, err
	}
	os.MkdirAll(out, 0o700)
	start := time.Now()
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b := 0; b < len(ids); b += 30 {
		for _, id := range ids[b:min(b+30, len(ids))] {
			if err := floorOne(in, out, id); err != nil {
				return result{}, err
			}
		}
		for _, d := range []string{out, in} {
			if err := syncDir(d); err != nil {
				return result{}, err
			}
		}
		progress("floor", min(b+30, len(ids)), len(ids), start)
	}
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	return result{msgs: len(msgs), bytes: totalBytes(msgs), wall: time.Since(start), cpu: cpuOf(ru1) - cpuOf(ru0), sent: -1, engCPU: -1}, nil
}

func floorOne(in, out, id string) error {
	qf, err := os.ReadFile(filepath.Join(in, "qf"+id))
	if err != nil {
		return err
	}
	if err := os.Link(filepath.Join(in, "df"+id), filepath.Join(out, "df"+id)); err != nil {
		return err
	}
	tf := filepath.Join(out, "tf"+id)
	f, err := os.OpenFile(tf, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(qf); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	f.Close()
	if err := os.Rename(tf, filepath.Join(out, "qf"+id)); err != nil {
		return err
	}
	os.Remove(filepath.Join(in, "qf"+id))
	return os.Remove(filepath.Join(in, "df"+id))
}

func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func cpuOf(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// runDrain queues the messages and times `qscan run --once` with the
// configuration c; mid (if any) meters the middle of the drain.
func runDrain(bin, root string, msgs [][]byte, c drainConfig, mid *midMeter) (result, error) {
	cfg, err := writeConfig(root, c)
	if err != nil {
		return result{}, err
	}
	ids, err := fill(filepath.Join(root, "in"), msgs)
	if err != nil {
		return result{}, err
	}
	stop, watched := make(chan struct{}), make(chan struct{})
	go func() {
		mid.watchQueue(filepath.Join(root, "out"), ids, stop)
		close(watched)
	}()
	r, err := runOnce(bin, root, cfg, c.set.name, len(msgs))
	close(stop)
	<-watched
	r.bytes = totalBytes(msgs)
	return r, err
}

// runOnce times `qscan run --once` over the n messages queued under root
// and checks that all of them came out.
func runOnce(bin, root, cfg, label string, n int) (result, error) {
	fmt.Fprintf(os.Stderr, "drain %s: qscan run --once over %d messages...\n", label, n)
	args := []string{"run", "--once", "-c", cfg}
	if dir := os.Getenv("BENCH_CPUPROFILE_DIR"); dir != "" {
		// For performance work: qscan's own CPU profile of each drain.
		args = append(args, "-cpuprofile", filepath.Join(dir, strings.NewReplacer("+", "-", " ", "_").Replace(label)+".prof"))
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	peak, err := stackutil.RunPeakRSS(cmd)
	if err != nil {
		return result{}, fmt.Errorf("qscan run --once (%s): %v\n%s", label, err, tail(stderr.Bytes(), 4000))
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if dir := os.Getenv("BENCH_LOG_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, strings.NewReplacer("+", "-", " ", "_").Replace(label)+".log"), stderr.Bytes(), 0o644)
	}
	left, _ := filepath.Glob(filepath.Join(root, "in", "qf*"))
	done, _ := filepath.Glob(filepath.Join(root, "out", "qf*"))
	// A message the content rules stop (e.g. ambiguous MIME) is kept whole
	// in the quarantine instead of going out: it is accounted for too.
	whole := wholeEntries(filepath.Join(root, "quarantine"))
	if len(left) != 0 || len(done)+whole < n {
		return result{}, fmt.Errorf("drain %s: %d left in incoming, %d of %d in outgoing, %d quarantined whole\n%s", label, len(left), len(done), n, whole, tail(stderr.Bytes(), 4000))
	}
	return result{msgs: n, wall: wall, cpu: cpuOf(*ru), maxRSS: peak, sent: -1, engCPU: -1}, nil
}

// tail keeps the end of a long error output.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return append([]byte("..."), b[len(b)-n:]...)
	}
	return b
}

// runBig queues n generated messages of about size bytes, one at a time
// so that the bench never holds them all, and drains them with the
// built-in engine: qscan's peak RSS with large messages.
func runBig(bin, root string, n, size, conc int) (result, error) {
	c := drainConfig{set: engineSet{name: "builtin", virus: []string{"builtin"}}, conc: conc}
	cfg, err := writeConfig(root, c)
	if err != nil {
		return result{}, err
	}
	in := filepath.Join(root, "in")
	gen := sendmail.NewIDGen(time.Now, os.Getpid(), 0)
	r := rand.New(rand.NewPCG(7, 20))
	var total int64
	start := time.Now()
	for i := 0; i < n; i++ {
		m := bigMessage(r, i, size)
		total += int64(len(m))
		if _, err := enqueue(in, gen, m); err != nil {
			return result{}, err
		}
		progress("generate", i+1, n, start)
	}
	res, err := runOnce(bin, root, cfg, fmt.Sprintf("%d big messages", n), n)
	res.bytes = total
	return res, err
}

// wholeEntries counts the quarantine entries of whole messages under dir.
func wholeEntries(dir string) int {
	metas, _ := filepath.Glob(filepath.Join(dir, "*", "*", "metadata.json"))
	n := 0
	for _, m := range metas {
		if b, err := os.ReadFile(m); err == nil && bytes.Contains(b, []byte(`"whole": true`)) {
			n++
		}
	}
	return n
}
