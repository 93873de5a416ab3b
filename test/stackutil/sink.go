package stackutil

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SinkMsg is one message the sink received.
type SinkMsg struct {
	Path     string    // the <n>.eml file
	Data     []byte    // the message as stored: LF line endings, dot-unstuffed
	MailFrom string    // envelope sender, without angle brackets
	RcptTo   []string  // envelope recipients, in RCPT order
	Received time.Time // when the sink stored it
}

// pollEvery is how often WaitSink and WaitQueue look at the directory.
const pollEvery = 50 * time.Millisecond

// ReadSink returns the messages in the sink directory, oldest first.
func ReadSink(dir string) ([]SinkMsg, error) {
	paths, err := numbered(dir, ".eml")
	if err != nil {
		return nil, err
	}
	msgs := make([]SinkMsg, 0, len(paths))
	for _, p := range paths {
		m, err := readSinkMsg(p)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func readSinkMsg(path string) (SinkMsg, error) {
	m := SinkMsg{Path: path}
	var err error
	if m.Data, err = os.ReadFile(path); err != nil {
		return m, fmt.Errorf("stackutil read sink: %w", err)
	}
	// The sink renames <n>.env into place before <n>.eml.
	envPath := strings.TrimSuffix(path, ".eml") + ".env"
	raw, err := os.ReadFile(envPath)
	if err != nil {
		return m, fmt.Errorf("stackutil read sink: %w", err)
	}
	var env struct {
		MailFrom string    `json:"mail_from"`
		RcptTo   []string  `json:"rcpt_to"`
		Received time.Time `json:"received"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return m, fmt.Errorf("stackutil read sink %s: %w", envPath, err)
	}
	m.MailFrom, m.RcptTo, m.Received = env.MailFrom, env.RcptTo, env.Received
	return m, nil
}

// numbered returns dir/<n><suffix> paths in numeric order of n.
func numbered(dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("stackutil read sink: %w", err)
	}
	type file struct {
		n    uint64
		path string
	}
	var files []file
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), suffix)
		if n, err := strconv.ParseUint(num, 10, 64); ok && err == nil {
			files = append(files, file{n, filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Compare(a.n, b.n) })
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths, nil
}

// WaitSink waits until the sink directory holds at least n messages and
// returns them all, oldest first. After timeout it returns what is there and
// an error.
func WaitSink(dir string, n int, timeout time.Duration) ([]SinkMsg, error) {
	var msgs []SinkMsg
	err := poll(timeout, func() (bool, error) {
		var err error
		msgs, err = ReadSink(dir)
		return len(msgs) >= n, err
	})
	if err != nil {
		return msgs, fmt.Errorf("stackutil wait sink %s: %d of %d messages: %w", dir, len(msgs), n, err)
	}
	return msgs, nil
}

// WaitQueue waits until queue directory dir holds at least n qf files and
// returns the queue IDs of all of them, sorted. sendmail writes qf last, so
// an ID returned has its df too.
func WaitQueue(dir string, n int, timeout time.Duration) ([]string, error) {
	var ids []string
	err := poll(timeout, func() (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, fmt.Errorf("read queue: %w", err)
		}
		ids = ids[:0]
		for _, e := range entries {
			if id, ok := strings.CutPrefix(e.Name(), "qf"); ok && id != "" {
				ids = append(ids, id)
			}
		}
		return len(ids) >= n, nil
	})
	if err != nil {
		return ids, fmt.Errorf("stackutil wait queue %s: %d of %d messages: %w", dir, len(ids), n, err)
	}
	return ids, nil
}

// errTimeout is wrapped by WaitSink and WaitQueue when time runs out.
var errTimeout = errors.New("stackutil: timed out")

// poll calls done until it reports true, fails, or timeout passes.
func poll(timeout time.Duration, done func() (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-deadline.C:
			return errTimeout
		case <-tick.C:
		}
	}
}

// ClearSink removes all stored messages (<n>.eml and <n>.env) from dir.
func ClearSink(dir string) error {
	for _, suffix := range []string{".eml", ".env"} {
		paths, err := numbered(dir, suffix)
		if err != nil {
			return err
		}
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("stackutil clear sink: %w", err)
			}
		}
	}
	return nil
}
