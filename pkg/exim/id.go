package exim

import (
	"sync"
	"time"
)

// base62 is Exim's alphabet for message ID digits, in ASCII order, so that
// IDs of one field width compare as their numbers do.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// IDLen is the length of an Exim 4.96 message ID, tttttt-pppppp-ss.
const IDLen = 16

// idResolution is the sub-second unit of the last ID field in
// microseconds: Exim 4.96 (BASE_62 == 62) uses 5000 (1/200 s), with or
// without localhost_number (receive.c, id_resolution).
const idResolution = 5000

// MaxHostNumber is the largest localhost_number Exim 4.96 accepts.
const MaxHostNumber = 16

// pidLimit is one above the largest process ID Linux hands out (pid_max
// is at most 2^22): Exim's own IDs have a pid field below it, so an ID
// whose pid field is at or above it can never be one Exim makes.
const pidLimit = 1 << 22

// maxPidField is the largest number six base-62 digits hold.
const maxPidField = 62 * 62 * 62 * 62 * 62 * 62

// base62Digits writes v into b as len(b) base-62 digits, as Exim's
// string_base62 does (the high digits dropped when v does not fit).
func base62Digits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
}

// NewID returns the message ID Exim 4.96 gives a message received at t by
// process pid: six base-62 digits of the Unix time, '-', six of the pid,
// '-', two of the fraction of the second in units of 1/200 s. With
// localhost_number set (hostNumber 0..MaxHostNumber; -1 when unset) the
// last field is hostNumber*200 plus that fraction, as Exim makes it.
func NewID(t time.Time, pid uint64, hostNumber int) string {
	b := make([]byte, IDLen)
	base62Digits(b[0:6], uint64(t.Unix()))
	b[6] = '-'
	base62Digits(b[7:13], pid)
	b[13] = '-'
	frac := uint64(t.Nanosecond()/1000) / idResolution
	if hostNumber >= 0 {
		frac += uint64(hostNumber) * (1000000 / idResolution)
	}
	base62Digits(b[14:16], frac)
	return string(b)
}

// ValidID reports whether id has the form of an Exim 4.96 message ID
// (Exim's own check: ^(?:[^\W_]{6}-){2}[^\W_]{2}$). It is what keeps a
// file name from becoming a path.
func ValidID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < IDLen; i++ {
		c := id[i]
		if i == 6 || i == 13 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// IDTime returns the arrival second an ID carries.
func IDTime(id string) time.Time {
	var v int64
	for i := 0; i < 6 && i < len(id); i++ {
		v = v*62 + int64(indexBase62(id[i]))
	}
	return time.Unix(v, 0)
}

func indexBase62(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return 0
}

// CompareIDs orders IDs as Exim lists its queue (queue.c,
// merge_queue_lists): by arrival second, then by the sub-second field,
// then by the whole ID.
func CompareIDs(a, b string) int {
	if len(a) != IDLen || len(b) != IDLen {
		return compareStrings(a, b)
	}
	if c := compareStrings(a[:6], b[:6]); c != 0 {
		return c
	}
	if c := compareStrings(a[14:], b[14:]); c != 0 {
		return c
	}
	return compareStrings(a, b)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IDGen makes fresh message IDs for messages qscan writes. Exim makes
// its IDs unique by waiting for the next 1/200 s tick after each message
// of a process; IDGen instead counts within a tick and puts the count
// above pidLimit in the pid field: the first ID of a tick has the true
// pid, later ones pid + n*2^22, which no Exim process can have. It is
// safe for concurrent use.
type IDGen struct {
	clock      func() time.Time
	pid        uint64
	hostNumber int

	mu   sync.Mutex
	last string // time and sub-second fields of the last ID
	seq  uint64
}

// NewIDGen returns a generator reading time from clock, for process pid,
// with Exim's localhost_number (-1: unset).
func NewIDGen(clock func() time.Time, pid int, hostNumber int) *IDGen {
	if pid < 0 {
		pid = -pid
	}
	return &IDGen{clock: clock, pid: uint64(pid) % pidLimit, hostNumber: hostNumber}
}

// Next returns a new ID. It does not repeat within this generator while
// the clock does not go back: up to 13,000 IDs per 1/200 s tick, after
// which it waits for the next tick.
func (g *IDGen) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		id := NewID(g.clock(), 0, g.hostNumber)
		key := id[:6] + id[14:]
		if key != g.last {
			g.last, g.seq = key, 0
		}
		pid := g.pid + g.seq*pidLimit
		if pid < maxPidField {
			g.seq++
			return id[:7] + pidField(pid) + id[13:]
		}
		time.Sleep(time.Millisecond)
	}
}

func pidField(pid uint64) string {
	b := make([]byte, 6)
	base62Digits(b, pid)
	return string(b)
}
