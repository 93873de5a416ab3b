// Package quarantine keeps messages and parts that must not be delivered:
// quarantine/<YYYYMMDD>/<ID>/ holds the original queue files, a ready to
// read message.eml, removed parts under generated names, and metadata.json,
// which is written last and marks the entry complete.
//
// Besides Store, which the pipeline calls, the package lists, shows,
// releases, deletes and purges entries for `qscan quarantine`. The files
// are the source of truth; an optional Index (the SQLite table of
// pkg/store) is kept in step but never consulted for a decision.
package quarantine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// Quarantine is a quarantine directory. Only Dir is required.
type Quarantine struct {
	Dir string

	// Index, when set, is told about every entry stored, released or
	// removed. Its errors are returned wrapped in ErrIndex but never undo a
	// durable file operation.
	Index Index

	// MaxMetadataBytes bounds a metadata.json read back by List and Get;
	// a larger one is listed as a warning entry. Default 1 MiB
	// (DefaultMaxMetadataBytes).
	MaxMetadataBytes int64

	// MaxList bounds the entries List returns (the newest are kept).
	// Default 100000 (DefaultMaxList).
	MaxList int

	// QfLimits bound the quarantined qf files that Release parses. Zero
	// fields take sendmail's defaults.
	QfLimits sendmail.Limits
}

// Index is what the quarantine tells a database index about its entries.
type Index interface {
	Add(Entry) error
	Remove(id string) error
	MarkReleased(id string, t time.Time) error
}

// Defaults of the Quarantine bounds.
const (
	DefaultMaxMetadataBytes = 1 << 20
	DefaultMaxList          = 100000
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrBadID      = errors.New("quarantine: invalid id (want YYYYMMDD/QUEUEID[.N])")
	ErrNotFound   = errors.New("quarantine: no such entry")
	ErrIncomplete = errors.New("quarantine: entry incomplete (no readable metadata.json)")
	ErrNoQueue    = errors.New("quarantine: entry has no queue files to release")
	ErrIndex      = errors.New("quarantine: index not updated")
	ErrTruncated  = errors.New("quarantine: list truncated")
)

// Entry is what metadata.json records.
type Entry struct {
	ID         string    `json:"id"`       // quarantine id: <YYYYMMDD>/<dir name>
	QueueID    string    `json:"queue_id"` // the message's queue id
	Time       time.Time `json:"time"`
	Sender     string    `json:"sender"`
	Recipients []string  `json:"recipients"`
	ClientIP   string    `json:"client_ip,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Reason     string    `json:"reason"`
	Reports    []string  `json:"reports,omitempty"`
	Whole      bool      `json:"whole"`           // the whole message was kept back
	Files      []string  `json:"files"`           // files in the entry directory
	Parts      []Part    `json:"parts,omitempty"` // removed parts
	Released   []Release `json:"released,omitempty"`

	// Set when an entry is read back, never stored.
	Dir        string `json:"-"`                    // the entry directory
	Incomplete bool   `json:"incomplete,omitempty"` // no usable metadata.json: never released
	Warning    string `json:"warning,omitempty"`    // why the entry is incomplete
}

// Release records one release of an entry to the outgoing queue.
type Release struct {
	Time    time.Time `json:"time"`
	To      []string  `json:"to"`       // envelope recipients of the released copy
	QueueID string    `json:"queue_id"` // its id in the outgoing queue
}

// Part is a removed part stored under a generated name.
type Part struct {
	File     string `json:"file"`     // generated name in the entry directory
	Filename string `json:"filename"` // name in the message (never used as a path)
	Report   string `json:"report"`
}

// Item is what to store.
type Item struct {
	Entry
	Qf, Df []byte   // original queue files; nil when missing
	Header []byte   // RFC 822 header block for message.eml; nil: no message.eml
	Data   [][]byte // bytes of Entry.Parts, same order
}

var errNoID = errors.New("quarantine: empty queue id")

// Store writes an entry and publishes it at once (Stage, then Publish).
// Directories are 0700 and files 0600. It returns the entry directory.
// When the entry is durable but the Index refused it, the error wraps
// ErrIndex: the caller must not treat the message as unquarantined.
func (q *Quarantine) Store(it Item) (string, error) {
	staged, _, err := q.Stage(it)
	if err != nil {
		return "", err
	}
	return q.Publish(staged)
}

// Stage writes an entry under a staged name (stagedPrefix + its entry
// name, in its day directory) that List, Get and Purge pass by: data
// files first, then metadata.json, all durable. It returns the staged
// directory and the entry directory Publish will most likely give it.
// The pipeline publishes the entry with the commit of its batch, so that
// a crash before the commit leaves no entry, only a staged directory
// that start-up recovery removes (see Staged).
func (q *Quarantine) Stage(it Item) (staged, dir string, err error) {
	if it.QueueID == "" || !safeName(it.QueueID) {
		return "", "", errNoID
	}
	staged, name, err := q.stage(it)
	if err != nil {
		if staged != "" {
			// A half-written entry (a full disk) is removed: the message is
			// still in its queue and will be stored again on the retry.
			os.RemoveAll(staged)
		}
		return "", "", err
	}
	return staged, filepath.Join(filepath.Dir(staged), name), nil
}

func (q *Quarantine) stage(it Item) (string, string, error) {
	day := it.Time.UTC().Format("20060102")
	dayDir := filepath.Join(q.Dir, day)
	if err := os.MkdirAll(dayDir, 0o700); err != nil {
		return "", "", fmt.Errorf("quarantine mkdir %s: %w", dayDir, err)
	}
	dir, name, err := newStagedDir(dayDir, it.QueueID)
	if err != nil {
		return "", "", err
	}
	it.ID = day + "/" + name
	it.Files = nil
	write := func(name string, data []byte) error {
		it.Files = append(it.Files, name)
		_, err := safeio.WriteFile(filepath.Join(dir, name), bytes.NewReader(data), safeio.Options{Perm: 0o600})
		return err
	}
	if it.Qf != nil {
		if err := write("qf"+it.QueueID, it.Qf); err != nil {
			return dir, name, err
		}
	}
	if it.Df != nil {
		if err := write("df"+it.QueueID, it.Df); err != nil {
			return dir, name, err
		}
		if it.Header != nil {
			eml := append(append(append([]byte{}, it.Header...), '\n'), it.Df...)
			if err := write("message.eml", eml); err != nil {
				return dir, name, err
			}
		}
	}
	for i := range it.Parts {
		if i < len(it.Data) && it.Data[i] != nil {
			it.Parts[i].File = "part-" + strconv.Itoa(i+1)
			if err := write(it.Parts[i].File, it.Data[i]); err != nil {
				return dir, name, err
			}
		}
	}
	meta, err := json.MarshalIndent(it.Entry, "", "  ")
	if err != nil {
		return dir, name, fmt.Errorf("quarantine metadata: %w", err)
	}
	if _, err := safeio.WriteFile(filepath.Join(dir, metadataName), bytes.NewReader(append(meta, '\n')), safeio.Options{Perm: 0o600, SyncDir: true}); err != nil {
		return dir, name, err
	}
	return dir, name, nil
}

// metadataName is the file written last into an entry directory.
const metadataName = "metadata.json"

func (q *Quarantine) indexAdd(e Entry) error {
	if q.Index == nil {
		return nil
	}
	if err := q.Index.Add(e); err != nil {
		return fmt.Errorf("quarantine index add %s: %w: %w", e.ID, ErrIndex, err)
	}
	return nil
}

// stagedPrefix starts the name of a staged entry directory. It is not an
// entry id, so List, Get and Purge never see it.
const stagedPrefix = safeio.TempPrefix + "q-"

// newStagedDir creates <dayDir>/<stagedPrefix><name> for the first name
// of <id>, <id>.2, <id>.3 ... that neither an entry nor another staged
// entry has, and returns it with that name.
func newStagedDir(dayDir, id string) (string, string, error) {
	for n := 1; n < 1000; n++ {
		name := entryName(id, n)
		if _, err := os.Lstat(filepath.Join(dayDir, name)); !os.IsNotExist(err) {
			continue
		}
		dir := filepath.Join(dayDir, stagedPrefix+name)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, name, nil
		}
		if !os.IsExist(err) {
			return "", "", fmt.Errorf("quarantine mkdir %s: %w", dir, err)
		}
	}
	return "", "", fmt.Errorf("quarantine: too many entries for %s in %s", id, dayDir)
}

// entryName is the n-th entry name of queue id: id, id.2, id.3 ...
func entryName(id string, n int) string {
	if n > 1 {
		return id + "." + strconv.Itoa(n)
	}
	return id
}

// safeName accepts queue ids: letters, digits, '-' and '_' only, so an id
// can never climb out of the quarantine directory.
func safeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

// OnlyIndex reports whether every error in err is an index error:
// the files are done, only the database lags.
func OnlyIndex(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		// "%w: %w" of ErrIndex and its cause is one index error; a join
		// of several errors is index-only when each of them is.
		for _, e := range j.Unwrap() {
			if e == ErrIndex {
				return true
			}
		}
		for _, e := range j.Unwrap() {
			if !OnlyIndex(e) {
				return false
			}
		}
		return true
	}
	if u := errors.Unwrap(err); u != nil && !errors.Is(err, ErrIndex) {
		return false
	}
	if u := errors.Unwrap(err); u != nil {
		return OnlyIndex(u)
	}
	return err == ErrIndex
}
