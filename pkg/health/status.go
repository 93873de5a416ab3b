// Package health tells whether a qscan daemon is doing its job: the daemon
// publishes a small status file, and `qscan check` (run from cron every 20
// minutes, like MailScanner's check_mailscanner) reads it together with the
// pid file, the incoming queues and the free space of the filesystems, and
// lists the problems it finds, one line each. It can also start a new
// daemon, detached from the checker.
package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

// StatusFile is the name of the status file in the daemon's work dir.
const StatusFile = "status.json"

// MaxStatusBytes bounds what ReadStatus reads: a status file is a few
// hundred bytes; anything larger is not ours.
const MaxStatusBytes = 1 << 20

// ErrStatusTooLarge is returned by ReadStatus for a file over MaxStatusBytes.
var ErrStatusTooLarge = errors.New("health: status file too large")

// Status is what the daemon publishes about itself.
type Status struct {
	PID          int                     `json:"pid"`
	Version      string                  `json:"version"`
	Started      time.Time               `json:"started"`
	Updated      time.Time               `json:"updated"`                // when the file was written
	LastBatch    time.Time               `json:"last_batch,omitzero"`    // end of the last batch
	BatchStarted time.Time               `json:"batch_started,omitzero"` // start of the batch in progress; zero when idle
	Held         int                     `json:"held"`                   // messages held back (engine down, retry pending)
	Engines      map[string]EngineStatus `json:"engines,omitempty"`      // by engine name: "clamd", "spamd" ...
	// The SMTP filter: why it answers new mail 451 ("" while it accepts)
	// and the messages in its spool.
	Refusing   string `json:"refusing,omitempty"`
	SpoolDepth int    `json:"spool_depth,omitempty"`
}

// EngineStatus is the state of one scanning engine.
type EngineStatus struct {
	Up        bool      `json:"up"`
	Since     time.Time `json:"since"`                // when Up last changed
	LastError string    `json:"last_error,omitempty"` // the last failure, kept after recovery
}

// WriteStatus writes s to dir/status.json, replacing the previous file
// atomically (temp file and rename), so that a reader never sees half a
// file. The directory is not fsynced: after a crash an older status is
// as good as a newer one.
func WriteStatus(dir string, s Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("health encode status: %w", err)
	}
	b = append(b, '\n')
	path := filepath.Join(dir, StatusFile)
	if _, err := safeio.WriteFile(path, bytes.NewReader(b), safeio.Options{Perm: 0o644}); err != nil {
		return fmt.Errorf("health write status %s: %w", path, err)
	}
	return nil
}

// ReadStatus reads dir/status.json. A missing file gives an error that
// matches os.ErrNotExist.
func ReadStatus(dir string) (Status, error) {
	path := filepath.Join(dir, StatusFile)
	f, err := os.Open(path)
	if err != nil {
		return Status{}, fmt.Errorf("health read status %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStatusBytes+1))
	if err != nil {
		return Status{}, fmt.Errorf("health read status %s: %w", path, err)
	}
	s, err := parseStatus(b)
	if err != nil {
		return Status{}, fmt.Errorf("health read status %s: %w", path, err)
	}
	return s, nil
}

// parseStatus decodes a status file's bytes.
func parseStatus(b []byte) (Status, error) {
	var s Status
	if len(b) > MaxStatusBytes {
		return s, ErrStatusTooLarge
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Status{}, err
	}
	return s, nil
}
