// Package archive keeps a copy of every message as it arrived in archive
// directories (MailScanner's "Archive Mail"), one file per message under
// a directory per day.
package archive

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
)

// Stage writes each message to the directories Dirs gives for it, as
// DIR/YYYYMMDD/ID.eml (the day the message was received), durably. It
// runs before the checks, so the copy is the message as it arrived; a
// copy that cannot be written holds the message for a retry, as any
// stage error does. Writing it again on a retry replaces it.
type Stage struct {
	Dirs func(m *message.Message) []string
	Now  func() time.Time // for a message without a reception time; nil: time.Now
}

// Name names the stage in logs and timings.
func (s *Stage) Name() string { return "archive" }

// Check writes the copies.
func (s *Stage) Check(ctx context.Context, m *message.Message) error {
	dirs := s.Dirs(m)
	if len(dirs) == 0 {
		return nil
	}
	when := m.Received
	if when.IsZero() {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		when = now()
	}
	raw := m.Raw()
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return err
		}
		day := filepath.Join(d, when.Format("20060102"))
		if err := os.MkdirAll(day, 0o700); err != nil {
			return fmt.Errorf("archive %s: %w", day, err)
		}
		path := filepath.Join(day, fileName(m.ID)+".eml")
		if _, err := safeio.WriteFile(path, bytes.NewReader(raw), safeio.Options{SyncDir: true}); err != nil {
			return fmt.Errorf("archive %s: %w", path, err)
		}
	}
	return nil
}

// fileName keeps the letters, digits, '-' and '_' of a queue ID: the
// name of the copy never comes from anything else.
func fileName(id string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	if out == "" {
		return "message"
	}
	return out
}

// Split reads an Archive Mail value: absolute paths are directories,
// words with an @ addresses; others are returned in bad.
func Split(v string) (dirs, addrs, bad []string) {
	for _, w := range strings.Fields(v) {
		switch {
		case strings.HasPrefix(w, "/"):
			dirs = append(dirs, filepath.Clean(w))
		case strings.Contains(w, "@"):
			addrs = append(addrs, w)
		default:
			bad = append(bad, w)
		}
	}
	return dirs, addrs, bad
}
