// Package quarantine keeps messages and parts that must not be delivered:
// quarantine/<YYYYMMDD>/<ID>/ holds the original queue files, a ready to
// read message.eml, removed parts under generated names, and metadata.json,
// which is written last and marks the entry complete.
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
)

// Quarantine is a quarantine directory.
type Quarantine struct {
	Dir string
}

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

// Store writes an entry: data files first, then metadata.json. Directories
// are 0700 and files 0600. It returns the entry directory.
func (q *Quarantine) Store(it Item) (string, error) {
	if it.QueueID == "" || !safeName(it.QueueID) {
		return "", errNoID
	}
	day := it.Time.UTC().Format("20060102")
	dayDir := filepath.Join(q.Dir, day)
	if err := os.MkdirAll(dayDir, 0o700); err != nil {
		return "", fmt.Errorf("quarantine mkdir %s: %w", dayDir, err)
	}
	dir, name, err := newEntryDir(dayDir, it.QueueID)
	if err != nil {
		return "", err
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
			return dir, err
		}
	}
	if it.Df != nil {
		if err := write("df"+it.QueueID, it.Df); err != nil {
			return dir, err
		}
		if it.Header != nil {
			eml := append(append(append([]byte{}, it.Header...), '\n'), it.Df...)
			if err := write("message.eml", eml); err != nil {
				return dir, err
			}
		}
	}
	for i := range it.Parts {
		if i < len(it.Data) {
			it.Parts[i].File = "part-" + strconv.Itoa(i+1)
			if err := write(it.Parts[i].File, it.Data[i]); err != nil {
				return dir, err
			}
		}
	}
	meta, err := json.MarshalIndent(it.Entry, "", "  ")
	if err != nil {
		return dir, fmt.Errorf("quarantine metadata: %w", err)
	}
	if _, err := safeio.WriteFile(filepath.Join(dir, "metadata.json"), bytes.NewReader(append(meta, '\n')), safeio.Options{Perm: 0o600, SyncDir: true}); err != nil {
		return dir, err
	}
	return dir, safeio.SyncDir(dayDir)
}

// newEntryDir creates <dayDir>/<id>, or <id>.2, <id>.3 ... when a message
// with the same id was quarantined the same day.
func newEntryDir(dayDir, id string) (string, string, error) {
	for n := 1; n < 1000; n++ {
		name := id
		if n > 1 {
			name = id + "." + strconv.Itoa(n)
		}
		dir := filepath.Join(dayDir, name)
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
