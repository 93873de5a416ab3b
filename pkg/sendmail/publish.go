package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
)

// MaxIDTries bounds the search of Publish for a queue ID that is free.
const MaxIDTries = 100

// Publish writes one message into q under a free queue ID from gen, as
// sendmail does: the df, then the qf as tf, both durable, and the tf
// linked to its qf name (a link never replaces a qf), so that sendmail
// sees either nothing or the whole message. It returns the ID.
func (q Queue) Publish(gen *IDGen, qf []byte, df io.ReadSeeker) (string, error) {
	for range MaxIDTries {
		id := gen.Next()
		if q.Taken(id) {
			continue
		}
		if _, err := df.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("read df: %w", err)
		}
		dfPath, tfPath := q.DfPath(id), q.TfPath(id)
		if _, err := safeio.CreateNew(dfPath, df, 0o600); err != nil {
			if errors.Is(err, safeio.ErrExists) {
				continue
			}
			return "", err
		}
		if _, err := safeio.CreateNew(tfPath, bytes.NewReader(qf), 0o600); err != nil {
			os.Remove(dfPath)
			if errors.Is(err, safeio.ErrExists) {
				continue
			}
			return "", err
		}
		// The df and tf names must be durable before the qf names them.
		if err := syncDirs(dfPath, tfPath); err != nil {
			os.Remove(tfPath)
			os.Remove(dfPath)
			return "", err
		}
		err := os.Link(tfPath, q.QfPath(id))
		os.Remove(tfPath)
		if err != nil {
			os.Remove(dfPath)
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return "", fmt.Errorf("publish qf %s: %w", id, err)
		}
		return id, syncDirs(q.QfPath(id))
	}
	return "", fmt.Errorf("no free queue id in %s after %d tries", q.Dir, MaxIDTries)
}

// Taken reports whether any file of queue id (qf, df or tf) exists in q.
func (q Queue) Taken(id string) bool {
	for _, p := range []string{q.QfPath(id), q.DfPath(id), q.TfPath(id)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// syncDirs fsyncs the directories of paths, each once.
func syncDirs(paths ...string) error {
	done := map[string]bool{}
	for _, p := range paths {
		d := filepath.Dir(p)
		if done[d] {
			continue
		}
		done[d] = true
		if err := safeio.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// Enqueue queues a message file's bytes in q as sendmail would have
// queued it (SplitMessage, NewQf, Publish), from sender to rcpts.
func (q Queue) Enqueue(gen *IDGen, raw []byte, sender string, rcpts []string, o NewOpts) (string, error) {
	header, body := SplitMessage(raw)
	o.BodySize = int64(len(body))
	o.EightBit = bytes.ContainsFunc(body, func(r rune) bool { return r >= 0x80 })
	qf, err := NewQf(sender, rcpts, header, o)
	if err != nil {
		return "", err
	}
	return q.Publish(gen, qf.Bytes(), bytes.NewReader(body))
}

// SplitMessage splits a message at its first empty line. Line endings are
// converted to LF, as sendmail stores them. A leading mbox separator line
// ("From sender date", no colon) is dropped, as sendmail drops it.
func SplitMessage(raw []byte) (header, body []byte) {
	if bytes.Contains(raw, []byte("\r\n")) {
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	}
	if rest, ok := bytes.CutPrefix(raw, []byte("From ")); ok && !bytes.HasPrefix(bytes.TrimLeft(rest, " \t"), []byte(":")) {
		// Not "From : x", a From: field in the obsolete syntax.
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:]
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil, raw[1:]
	}
	return raw, nil
}
