package sendmail

import (
	"fmt"
	"sync"
	"time"
)

// idChars is sendmail's 60-character alphabet for queue ID digits.
const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"

// MaxIDLen bounds what ValidID accepts; sendmail's own IDs have 14–15
// characters.
const MaxIDLen = 64

// NewID returns a queue ID in the format of sendmail 8.12 and later,
// YMDhmsNNpppppp: year (years since 1900, mod 60), month (0–11), day,
// hour, minute and second of t in UTC, one character each from a
// 60-character alphabet; two characters of seq (mod 3600); then pid as at
// least six decimal digits. For 22 Nov 2026 08:07:06 UTC, seq 2978 ("nc")
// and pid 5638 it gives "6AM876nc005638", as sendmail 8.17 does.
func NewID(t time.Time, seq int, pid int) string {
	t = t.UTC()
	sec := t.Second()
	if sec > 59 {
		sec = 59
	}
	seq %= 60 * 60
	if seq < 0 {
		seq += 60 * 60
	}
	if pid < 0 {
		pid = -pid
	}
	b := []byte{
		idChars[((t.Year()-1900)%60+60)%60],
		idChars[int(t.Month())-1],
		idChars[t.Day()],
		idChars[t.Hour()],
		idChars[t.Minute()],
		idChars[sec],
		idChars[seq/60],
		idChars[seq%60],
	}
	return fmt.Sprintf("%s%06d", b, pid)
}

// ValidID reports whether id can name a queue file: 1 to MaxIDLen
// characters from [A-Za-z0-9_-], the set sendmail and MailScanner accept
// (^qf[-\w]+$). It is what keeps a file name from becoming a path.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// IDGen makes fresh queue IDs, e.g. when an ID is already taken in the
// outgoing queue. It is safe for concurrent use.
type IDGen struct {
	clock func() time.Time
	pid   int

	mu  sync.Mutex
	seq int
}

// NewIDGen returns a generator reading time from clock, with process ID
// pid and the sequence starting at seq (pass something random to make
// collisions across restarts unlikely).
func NewIDGen(clock func() time.Time, pid, seq int) *IDGen {
	return &IDGen{clock: clock, pid: pid, seq: seq}
}

// Next returns a new ID. IDs repeat only after 3600 calls within the same
// second, as with sendmail.
func (g *IDGen) Next() string {
	g.mu.Lock()
	seq := g.seq
	g.seq = (g.seq + 1) % (60 * 60)
	g.mu.Unlock()
	return NewID(g.clock(), seq, g.pid)
}
