//go:build reliability

package reliability

import (
	"bytes"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// eicarMarkers is what a delivered message must never contain: the string
// itself, or the first base64 line of the zip that carries it (a generic
// zip prefix such as "UEsDB" turns up by chance in random base64).
var eicarMarkers = [][]byte{[]byte("EICAR-STANDARD"),
	[]byte(strings.SplitN(stackutil.Base64Lines(stackutil.ZipOf(map[string][]byte{"eicar.com": []byte(stackutil.EICAR)})), "\n", 2)[0])}

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
func submitParallel(addr string, msgs []stackutil.Msg, conns int) submitResult {
	return submitGen(addr, len(msgs), func(i int) stackutil.Msg { return msgs[i] }, conns)
}

// submitGen is submitParallel for n messages made on the fly by gen.
func submitGen(addr string, n int, gen func(int) stackutil.Msg, conns int) submitResult {
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

func sendOne(c *smtp.Client, m stackutil.Msg) error {
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
