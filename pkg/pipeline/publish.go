package pipeline

import (
	"errors"
	"fmt"
	"os"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
)

// maxIDTries bounds the search of Publish for a queue ID that is free.
const maxIDTries = 100

// Publish writes one message into the outgoing queue dir of m under a
// fresh queue ID, outside a batch (a quarantine release, `qscan enqueue`):
// its files written durably under names the MTA does not read, their
// directories fsynced, then published by links that never replace a file,
// and the directories fsynced again. It returns the ID.
func Publish(m MTA, dir string, c Control, body []byte) (string, error) {
	out := m.Out(dir)
	for range maxIDTries {
		id := m.NewID()
		if out.Taken(id) {
			continue
		}
		if err := out.Write(id, c, Body{Data: body}); err != nil {
			if errors.Is(err, safeio.ErrExists) || errors.Is(err, os.ErrExist) {
				continue
			}
			return "", err
		}
		files := out.Files(id)
		e := []entry{{OutID: id, Out: files}}
		if err := syncOut(e); err != nil {
			removeOut(files)
			return "", err
		}
		if err := publishFiles(files); err != nil {
			removeOut(files)
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return "", err
		}
		return id, syncOut(e)
	}
	return "", fmt.Errorf("publish in %s: no free queue ID in %d tries", dir, maxIDTries)
}

// publishFiles links each temporary file to its final name (never
// replacing one) and removes the temporary name.
func publishFiles(files []OutFile) error {
	for _, f := range files {
		if f.Tmp == "" {
			continue
		}
		if _, err := os.Stat(f.Tmp); err != nil {
			continue // published before (recovery)
		}
		if err := os.Link(f.Tmp, f.Final); err != nil && !safeio.SameFile(f.Tmp, f.Final) {
			return fmt.Errorf("publish %s: %w", f.Final, err)
		}
		os.Remove(f.Tmp)
	}
	return nil
}

// removeOut removes the files of a message that is not published.
func removeOut(files []OutFile) {
	for _, f := range files {
		if f.Tmp != "" {
			os.Remove(f.Tmp)
		} else {
			os.Remove(f.Final)
		}
	}
	syncOut([]entry{{Out: files}}) // each directory once
}

// Releaser publishes quarantined messages into the outgoing queue of its
// MTA (quarantine.ReleaseOptions.Publish): the quarantined control file,
// in the MTA's own format, with the recipients replaced when to is set and
// a header field header set to value.
type Releaser struct {
	MTA MTA
	Dir string
}

// Release parses ctl, edits it and publishes it with body. It returns the
// new queue ID and the recipients it went to.
func (r Releaser) Release(ctl, body []byte, to []string, header, value string) (string, []string, error) {
	c, err := r.MTA.Parse(ctl)
	if err != nil {
		return "", nil, err
	}
	if len(to) > 0 {
		if err := c.Forward(to, true); err != nil {
			return "", nil, err
		}
	}
	if err := c.Edit([]message.HeaderEdit{{Op: message.HeaderReplace, Name: header, Value: value}}, false); err != nil {
		return "", nil, err
	}
	id, err := Publish(r.MTA, r.Dir, c, body)
	return id, c.Envelope().Recipients, err
}
