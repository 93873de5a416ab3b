package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// result is one measured run.
type result struct {
	wall   time.Duration
	cpu    time.Duration
	maxRSS int64 // KiB
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

// enqueue writes one message (df, then tf renamed to qf).
func enqueue(dir string, gen *sendmail.IDGen, raw []byte) (string, error) {
	hdr, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hdr, body = raw[:i+1], raw[i+2:]
	}
	qf, err := sendmail.NewQf("bench@example.org", []string{"rcpt@example.test"}, hdr,
		sendmail.NewOpts{Time: time.Now(), ClientIP: netip.MustParseAddr("192.0.2.7"), ClientHost: "client.example", Helo: "client.example", Protocol: "ESMTP", BodySize: int64(len(body))})
	if err != nil {
		return "", fmt.Errorf("build qf: %w", err)
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
	return result{wall: time.Since(start), cpu: cpuOf(ru1) - cpuOf(ru0), maxRSS: ru1.Maxrss}, nil
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

// writeConfig writes a qscan configuration for a bench directory.
func writeConfig(root string) (string, error) {
	for _, d := range []string{"in", "out", "quarantine"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return "", err
		}
	}
	cfg := `[queue]
incoming = "in"
outgoing = "out"
work_dir = "work"
pid_file = "work/qscan.pid"
[quarantine]
dir = "quarantine"
[store]
path = "work/qscan.db"
[log]
level = "warn"
`
	p := filepath.Join(root, "qscan.toml")
	return p, os.WriteFile(p, []byte(cfg), 0o600)
}

// runDrain queues the messages and times `qscan run --once`.
func runDrain(bin, root string, msgs [][]byte) (result, error) {
	cfg, err := writeConfig(root)
	if err != nil {
		return result{}, err
	}
	if _, err := fill(filepath.Join(root, "in"), msgs); err != nil {
		return result{}, err
	}
	fmt.Fprintf(os.Stderr, "drain: qscan run --once over %d messages...\n", len(msgs))
	cmd := exec.Command(bin, "run", "--once", "-c", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("qscan run --once: %v\n%s", err, stderr.Bytes())
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	left, _ := filepath.Glob(filepath.Join(root, "in", "qf*"))
	done, _ := filepath.Glob(filepath.Join(root, "out", "qf*"))
	if len(left) != 0 || len(done) != len(msgs) {
		return result{}, fmt.Errorf("drain: %d left in incoming, %d of %d in outgoing", len(left), len(done), len(msgs))
	}
	return result{wall: wall, cpu: cpuOf(*ru), maxRSS: ru.Maxrss}, nil
}
