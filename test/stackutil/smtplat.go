package stackutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/fsnotify/fsnotify"
)

// Latencies summarises pick-up latencies.
type Latencies struct {
	N, Rate       int
	P50, P99, Max time.Duration
}

func (l Latencies) String() string {
	return fmt.Sprintf("%d messages at %d msg/s: p50 %s, p99 %s, max %s", l.N, l.Rate,
		l.P50.Round(100*time.Microsecond), l.P99.Round(100*time.Microsecond), l.Max.Round(100*time.Microsecond))
}

// SMTPLatency submits n messages (msgs in turn) over SMTP to smtpAddr at
// rate per second, each in a session of its own as MTAs deliver, and
// measures for each the time from the server's answer to its DATA (the end
// of the SMTP transaction) to the appearance of qf<ID> in outDir, the ID
// being the one the answer names (sendmail: "<ID> Message accepted for
// delivery"). It gives up after timeout past the last submission.
func SMTPLatency(smtpAddr, outDir, from string, to []string, msgs [][]byte, n, rate int, timeout time.Duration) (Latencies, error) {
	qf := func(path string) (string, bool) { return strings.CutPrefix(filepath.Base(path), "qf") }
	return smtpLatency(smtpAddr, outDir, qf, from, to, msgs, n, rate, timeout)
}

// SMTPLatencyMTA is SMTPLatency through the MTA m: from the answer to DATA
// of m's SMTP server to the message's file in m's outgoing queue (or a
// sub-directory of it) that m.OutID names with the ID of the answer.
func SMTPLatencyMTA(m MTA, from string, to []string, msgs [][]byte, n, rate int, timeout time.Duration) (Latencies, error) {
	return smtpLatency(m.SMTP, m.Outgoing, m.OutID, from, to, msgs, n, rate, timeout)
}

func smtpLatency(smtpAddr, outDir string, outID func(string) (string, bool), from string, to []string, msgs [][]byte, n, rate int, timeout time.Duration) (Latencies, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return Latencies{}, err
	}
	defer w.Close()
	dirs := []string{outDir}
	filepath.WalkDir(outDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != outDir {
			dirs = append(dirs, p)
		}
		return nil
	})
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			return Latencies{}, fmt.Errorf("stackutil smtp latency: watch %s: %w", d, err)
		}
	}
	m := newMatcher(n)
	go func() {
		for ev := range w.Events {
			if !ev.Has(fsnotify.Create) {
				continue
			}
			if id, ok := outID(ev.Name); ok {
				m.out(id, time.Now())
			} else if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
				w.Add(ev.Name) // a new sub-directory of a hashed or split queue
			}
		}
	}()
	errc := make(chan error, n)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	for i := 0; i < n; i++ {
		<-tick.C
		wg.Add(1)
		go func(msg []byte) {
			defer wg.Done()
			id, at, err := submitForID(smtpAddr, from, to, msg)
			if err != nil {
				errc <- err
				return
			}
			m.sent(id, at)
		}(msgs[i%len(msgs)])
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return Latencies{}, err
	}
	select {
	case <-m.done:
	case <-time.After(timeout):
		return Latencies{}, fmt.Errorf("stackutil smtp latency: %d of %d messages reached %s within %s of the last submission", m.count(), n, outDir, timeout)
	}
	return m.summary(rate), nil
}

// submitForID sends one message in a session of its own and returns the
// queue ID the server named and the moment its answer to DATA came.
func submitForID(addr, from string, to []string, msg []byte) (string, time.Time, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("stackutil.example.test"); err != nil {
		return "", time.Time{}, err
	}
	if err := c.Mail(from, nil); err != nil {
		return "", time.Time{}, err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "", time.Time{}, err
		}
	}
	d, err := c.Data()
	if err != nil {
		return "", time.Time{}, err
	}
	if _, err := d.Write(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))); err != nil {
		return "", time.Time{}, err
	}
	resp, err := d.CloseWithResponse()
	at := time.Now()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("stackutil submit %s: %w", addr, err)
	}
	id := queueIDFrom(resp.StatusText)
	if id == "" {
		return "", time.Time{}, fmt.Errorf("stackutil submit %s: no queue ID in the answer %q", addr, resp.StatusText)
	}
	c.Quit()
	return id, at, nil
}

// queueIDFrom takes the queue ID out of an answer to DATA: sendmail's
// "2.0.0 <ID> Message accepted for delivery", Postfix's "2.0.0 Ok: queued
// as <ID>", Exim's "OK id=<ID>".
func queueIDFrom(text string) string {
	f := strings.Fields(text)
	for i := 0; i < len(f); i++ {
		switch {
		case i > 0 && f[i] == "Message":
			return f[i-1]
		case f[i] == "as" && i > 1 && f[i-1] == "queued" && i+1 < len(f):
			return f[i+1]
		case strings.HasPrefix(f[i], "id="):
			return strings.TrimPrefix(f[i], "id=")
		}
	}
	return ""
}

// matcher pairs submissions with outgoing qf files, whichever is seen
// first (the qf can appear before the client reads the answer).
type matcher struct {
	mu        sync.Mutex
	want      int
	sentAt    map[string]time.Time
	outAt     map[string]time.Time
	lats      []time.Duration
	done      chan struct{}
	completed bool
}

func newMatcher(n int) *matcher {
	return &matcher{want: n, sentAt: map[string]time.Time{}, outAt: map[string]time.Time{}, done: make(chan struct{})}
}

func (m *matcher) sent(id string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.outAt[id]; ok {
		m.add(o.Sub(at))
		return
	}
	m.sentAt[id] = at
}

func (m *matcher) out(id string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sentAt[id]; ok {
		delete(m.sentAt, id)
		m.add(at.Sub(s))
		return
	}
	m.outAt[id] = at
}

// add records one latency (a qf seen before the answer counts as 0);
// called with mu held.
func (m *matcher) add(d time.Duration) {
	m.lats = append(m.lats, max(d, 0))
	if len(m.lats) == m.want && !m.completed {
		m.completed = true
		close(m.done)
	}
}

func (m *matcher) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.lats)
}

func (m *matcher) summary(rate int) Latencies {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := append([]time.Duration(nil), m.lats...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return Latencies{N: len(l), Rate: rate, P50: l[len(l)/2], P99: l[len(l)*99/100], Max: l[len(l)-1]}
}
