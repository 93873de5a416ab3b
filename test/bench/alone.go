package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// engineTimeout bounds one engine-alone request.
const engineTimeout = 60 * time.Second

// parallel runs do(i) for every i < n on conc workers, with a progress
// bar, and returns the wall time and the CPU of the bench and its child
// processes. The first error stops the run.
func parallel(label string, n, conc int, mid *midMeter, do func(i int) error) (wall, cpu time.Duration, err error) {
	var next, done atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	ru0 := rusageBoth()
	start := time.Now()
	stopBar := make(chan struct{})
	go func() {
		shown := -1
		for {
			select {
			case <-stopBar:
				return
			case <-time.After(200 * time.Millisecond):
				if d := int(done.Load()); d < n && d != shown {
					progress(label, d, n, start)
					shown = d
				}
			}
		}
	}()
	for w := 0; w < max(conc, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := do(i); err != nil {
					once.Do(func() { first = err; next.Store(int64(n)) })
					return
				}
				mid.done(int(done.Add(1)))
			}
		}()
	}
	wg.Wait()
	close(stopBar)
	wall = time.Since(start)
	progress(label, int(done.Load()), n, start)
	if int(done.Load()) < n {
		fmt.Fprintln(os.Stderr)
	}
	return wall, rusageBoth() - ru0, first
}

// rusageBoth is the CPU used by the bench and its reaped children.
func rusageBoth() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	return cpuOf(self) + cpuOf(kids)
}

// instream scans one message with clamd's zINSTREAM command on a fresh
// connection, as clamdscan --stream does, and returns clamd's answer
// ("stream: OK", "stream: NAME FOUND").
func instream(addr string, msg []byte) (string, error) {
	const chunk = 64 << 10
	c, err := net.DialTimeout("tcp", addr, engineTimeout)
	if err != nil {
		return "", fmt.Errorf("clamd instream %s: %w", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(engineTimeout))
	w := bufio.NewWriterSize(c, chunk+4)
	w.WriteString("zINSTREAM\x00")
	var size [4]byte
	for off := 0; off < len(msg); off += chunk {
		p := msg[off:min(off+chunk, len(msg))]
		binary.BigEndian.PutUint32(size[:], uint32(len(p)))
		w.Write(size[:])
		w.Write(p)
	}
	w.Write([]byte{0, 0, 0, 0})
	if err := w.Flush(); err != nil {
		return "", fmt.Errorf("clamd instream %s: %w", addr, err)
	}
	reply, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadString(0)
	reply = strings.TrimRight(reply, "\x00\n")
	if err != nil && reply == "" {
		return "", fmt.Errorf("clamd instream %s: reading the answer: %w", addr, err)
	}
	if strings.HasSuffix(reply, "ERROR") || !strings.HasPrefix(reply, "stream: ") {
		return "", fmt.Errorf("clamd instream %s: answer %q", addr, reply)
	}
	return reply, nil
}

// clamdAlone sends every message whole to clamd with zINSTREAM, conc at
// a time.
func clamdAlone(addr string, msgs [][]byte, conc int, mid *midMeter) (result, error) {
	wall, cpu, err := parallel("zINSTREAM", len(msgs), conc, mid, func(i int) error {
		_, err := instream(addr, msgs[i])
		return err
	})
	return result{msgs: len(msgs), bytes: totalBytes(msgs), wall: wall, cpu: cpu, sent: -1, engCPU: -1}, err
}

// clamdscanAlone writes the messages to files and runs conc clamdscan
// --stream processes over shares of them, pointed at addr by a client
// configuration of their own.
func clamdscanAlone(root, addr string, msgs [][]byte, conc int) (result, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return result{}, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return result{}, err
	}
	conf := filepath.Join(root, "clamd.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "TCPSocket %s\nTCPAddr %s\n", port, host), 0o600); err != nil {
		return result{}, err
	}
	shares := make([][]string, conc)
	for i, m := range msgs {
		f := filepath.Join(root, fmt.Sprintf("msg%05d.eml", i))
		if err := os.WriteFile(f, m, 0o600); err != nil {
			return result{}, err
		}
		shares[i%conc] = append(shares[i%conc], f)
	}
	wall, cpu, err := parallel("clamdscan", conc, conc, nil, func(i int) error {
		return clamdscan(conf, shares[i])
	})
	return result{msgs: len(msgs), bytes: totalBytes(msgs), wall: wall, cpu: cpu, sent: -1, engCPU: -1}, err
}

// clamdscan scans files with one clamdscan --stream process and checks
// that it answered for each of them.
func clamdscan(conf string, files []string) error {
	if len(files) == 0 {
		return nil
	}
	args := append([]string{"--stream", "--no-summary", "--config-file=" + conf}, files...)
	var out, stderr bytes.Buffer
	cmd := exec.Command("clamdscan", args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: a virus was found
		return fmt.Errorf("clamdscan: %v\n%s", err, tail(stderr.Bytes(), 2000))
	}
	answered := bytes.Count(out.Bytes(), []byte(": OK\n")) + bytes.Count(out.Bytes(), []byte(" FOUND\n"))
	if answered != len(files) {
		return fmt.Errorf("clamdscan: %d answers for %d files\n%s%s", answered, len(files), tail(out.Bytes(), 1000), tail(stderr.Bytes(), 1000))
	}
	return nil
}

// spamcAlone runs `spamc -x -c -d HOST -p PORT < msg` for every message,
// conc processes at a time; with report, -R (spamd's REPORT, what qscan
// asks) instead of -c (CHECK).
func spamcAlone(addr string, msgs [][]byte, conc int, report bool, mid *midMeter) (result, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return result{}, err
	}
	wall, cpu, err := parallel("spamc", len(msgs), conc, mid, func(i int) error {
		return spamc(host, port, msgs[i], report)
	})
	return result{msgs: len(msgs), bytes: totalBytes(msgs), wall: wall, cpu: cpu, sent: -1, engCPU: -1}, err
}

// spamc checks one message. -x turns spamc's safe fallback off, so that
// a failure is an error instead of an unchecked "0/0".
func spamc(host, port string, msg []byte, report bool) error {
	mode := "-c"
	if report {
		mode = "-R"
	}
	cmd := exec.Command("spamc", "-x", mode, "-d", host, "-p", port)
	cmd.Stdin = bytes.NewReader(msg)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: spam
		return fmt.Errorf("spamc: %v: %s", err, tail(stderr.Bytes(), 500))
	}
	if !bytes.Contains(out.Bytes(), []byte("/")) {
		return fmt.Errorf("spamc: no score in %q", tail(out.Bytes(), 200))
	}
	return nil
}
