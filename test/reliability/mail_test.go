//go:build reliability

package reliability

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// eicar is the EICAR test string, in two halves so that this file is not
// itself flagged by a scanner.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STAN` + `DARD-ANTIVIRUS-TEST-FILE!$H+H*`

// eicarMarkers is what a delivered message must never contain: the string
// itself, or the first base64 line of the zip that carries it (a generic
// zip prefix such as "UEsDB" turns up by chance in random base64).
var eicarMarkers = [][]byte{[]byte("EICAR-STANDARD"),
	[]byte(strings.SplitN(base64Lines(zipOf(map[string][]byte{"eicar.com": []byte(eicar)})), "\n", 2)[0])}

// testMsg is one generated message.
type testMsg struct {
	ID       string // Message-ID, with angle brackets
	Raw      []byte // LF line endings
	Rcpt     string
	Infected bool
}

// body returns what follows the header.
func (m testMsg) body() []byte { return stackutil.BodyOf(m.Raw) }

// genMessage builds message n: a varied, deterministic mix (plain text,
// 8-bit, multipart with attachments, long folded headers, dot lines); with
// infected, a zip holding EICAR rides along.
func genMessage(n int, tag string, infected bool) testMsg {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	m := testMsg{ID: fmt.Sprintf("<%s-%d@rel.example>", tag, n), Rcpt: fmt.Sprintf("rcpt%d@example.test", n%7), Infected: infected}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender %d <sender%d@example.org>\nTo: %s\n", n, n, m.Rcpt)
	fmt.Fprintf(&b, "Subject: rel %s message %d\nDate: Sun, 22 Nov 2026 08:07:06 +0000\nMessage-ID: %s\n", tag, n, m.ID)
	if n%5 == 0 {
		b.WriteString("X-Long: " + strings.Repeat("word ", 100) + "\n\t" + strings.Repeat("more ", 100) + "\n")
	}
	b.WriteString("MIME-Version: 1.0\n")
	if !infected && n%4 < 2 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		for i := 0; i < 3+r.IntN(40); i++ {
			fmt.Fprintf(&b, "Line %d of message %d: caf\xc3\xa9 na\xc3\xafve %x\n", i, n, r.Uint64())
		}
		b.WriteString(".\n..leading dots survive\n")
		m.Raw = b.Bytes()
		return m
	}
	bd := fmt.Sprintf("b-%d", n)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\n\n--%s\nContent-Type: text/plain\n\nsee attachment\n--%s\n", bd, bd, bd)
	fmt.Fprintf(&b, "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"data%d.bin\"\nContent-Transfer-Encoding: base64\n\n", n)
	data := make([]byte, 200+r.IntN(20000))
	for i := range data {
		data[i] = byte(r.UintN(256))
	}
	b.WriteString(base64Lines(data))
	if infected {
		fmt.Fprintf(&b, "--%s\nContent-Type: application/zip\nContent-Disposition: attachment; filename=\"files%d.zip\"\nContent-Transfer-Encoding: base64\n\n", bd, n)
		b.WriteString(base64Lines(zipOf(map[string][]byte{"eicar.com": []byte(eicar)})))
	}
	fmt.Fprintf(&b, "--%s--\n", bd)
	m.Raw = b.Bytes()
	return m
}

// zipOf returns a zip archive of the given members (sorted by name).
func zipOf(members map[string][]byte) []byte {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, name := range sortedKeys(members) {
		w, _ := zw.Create(name)
		w.Write(members[name])
	}
	zw.Close()
	return zb.Bytes()
}

func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	return b.String()
}

// hasEICAR reports whether data carries the EICAR payload in clear or as
// a base64 zip.
func hasEICAR(data []byte) bool {
	for _, m := range eicarMarkers {
		if bytes.Contains(data, m) {
			return true
		}
	}
	return false
}

// submitResult sums up a parallel SMTP submission.
type submitResult struct {
	Sent     int
	Retries  int // transactions retried after a temporary failure
	Elapsed  time.Duration
	LastErr  error
	Failures int // messages given up on
}

// submitParallel offers msgs to addr over conns parallel SMTP connections,
// several transactions per connection, as fast as the server accepts.
// A temporary failure (4xx, a dropped connection) is retried with backoff.
func submitParallel(addr string, msgs []testMsg, conns int) submitResult {
	return submitGen(addr, len(msgs), func(i int) testMsg { return msgs[i] }, conns)
}

// submitGen is submitParallel for n messages made on the fly by gen.
func submitGen(addr string, n int, gen func(int) testMsg, conns int) submitResult {
	var next, retries, failures, sent atomic.Int64
	var mu sync.Mutex
	var lastErr error
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *smtp.Client
			defer func() {
				if c != nil {
					c.Quit()
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				m := gen(i)
				ok := false
				for try := 0; try < 20 && !ok; try++ {
					if try > 0 {
						retries.Add(1)
						time.Sleep(time.Duration(50*try) * time.Millisecond)
					}
					var err error
					if c == nil {
						if c, err = dialSMTP(addr); err != nil {
							mu.Lock()
							lastErr = err
							mu.Unlock()
							continue
						}
					}
					if err = sendOne(c, m); err != nil {
						mu.Lock()
						lastErr = err
						mu.Unlock()
						c.Close()
						c = nil
						continue
					}
					ok = true
				}
				if ok {
					sent.Add(1)
				} else {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return submitResult{Sent: int(sent.Load()), Retries: int(retries.Load()), Failures: int(failures.Load()),
		Elapsed: time.Since(start), LastErr: lastErr}
}

func dialSMTP(addr string) (*smtp.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.Hello("rel.example.test"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func sendOne(c *smtp.Client, m testMsg) error {
	if err := c.Reset(); err != nil {
		return err
	}
	if err := c.Mail("sender@example.org"); err != nil {
		return err
	}
	if err := c.Rcpt(m.Rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.Raw); err != nil {
		return err
	}
	return w.Close()
}
