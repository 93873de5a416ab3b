package quarantine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/safeio"
	"github.com/qscan/qscan/pkg/sendmail"
)

// ReleaseOptions say where a released message goes and to whom.
type ReleaseOptions struct {
	Outgoing string   // sendmail's outgoing queue directory (flat or with qf/ df/)
	To       []string // envelope recipients; empty: the original recipients
	OrgName  string   // names the X-<OrgName>-QScan-Released header
	Now      time.Time
	IDGen    *sendmail.IDGen // makes the new queue id
	// Publish, when set, releases into another MTA's outgoing queue
	// (pipeline.Releaser): it is given the quarantined control file in
	// that MTA's format and the body, the recipients to replace the
	// original ones (none: keep them) and the header field to set, and
	// returns the new queue id and the recipients. Outgoing and IDGen are
	// then not used.
	Publish func(ctl, body []byte, to []string, header, value string) (string, []string, error)
}

// Release puts a copy of the quarantined message into the outgoing queue
// under a fresh queue id, as sendmail writes a queue entry: df first, then
// tf<ID> linked to qf<ID> (never replacing a file), then the directory
// fsynced. It returns the new queue id.
//
// The released message is not scanned again: it goes to the outgoing queue,
// which only the delivering sendmail reads, so the checks that stopped it
// cannot stop it twice. It carries an X-<Org>-QScan-Released header with
// the release date. With opts.To the envelope recipients are replaced;
// each must pass CheckAddress, else nothing is done.
//
// The release is recorded in metadata.json (Entry.Released) and the Index.
// When the message is in the outgoing queue but the record failed, the new
// id is returned with the error; an Index failure wraps ErrIndex. An
// incomplete entry (no readable metadata.json) is never released.
func (q *Quarantine) Release(id string, o ReleaseOptions) (string, error) {
	if o.Publish == nil && (o.Outgoing == "" || o.IDGen == nil) || o.Now.IsZero() {
		return "", fmt.Errorf("quarantine release %s: outgoing queue, id generator and time are required", id)
	}
	for _, a := range o.To {
		if err := CheckAddress(a); err != nil {
			return "", fmt.Errorf("quarantine release %s: %w", id, err)
		}
	}
	dir, err := q.entryDir(id)
	if err != nil {
		return "", err
	}
	e := q.readEntry(id, dir)
	if e.Incomplete {
		return "", fmt.Errorf("quarantine release %s: %w: %s", id, ErrIncomplete, e.Warning)
	}
	if !sendmail.ValidID(e.QueueID) {
		return "", fmt.Errorf("quarantine release %s: %w: queue id %q", id, ErrNoQueue, e.QueueID)
	}
	if o.Publish != nil {
		newID, to, err := q.publishWith(dir, e.QueueID, o)
		if err != nil {
			return newID, fmt.Errorf("quarantine release %s: %w", id, err)
		}
		return q.recordRelease(id, dir, e, newID, to, o.Now)
	}
	qf, err := q.releasedQf(dir, e.QueueID, o)
	if err != nil {
		return "", fmt.Errorf("quarantine release %s: %w", id, err)
	}
	df, err := os.OpenFile(filepath.Join(dir, sendmail.DfName(e.QueueID)), os.O_RDONLY|noFollow, 0)
	if err != nil {
		return "", fmt.Errorf("quarantine release %s: %w: %w", id, ErrNoQueue, err)
	}
	defer df.Close()
	out, err := sendmail.OpenQueue(o.Outgoing)
	if err != nil {
		return "", fmt.Errorf("quarantine release %s: %w", id, err)
	}
	newID, err := out.Publish(o.IDGen, qf.Bytes(), df)
	if err != nil {
		return newID, fmt.Errorf("quarantine release %s: %w", id, err)
	}
	var to []string
	for _, r := range qf.Recipients() {
		to = append(to, r.Addr)
	}
	return q.recordRelease(id, dir, e, newID, to, o.Now)
}

// publishWith releases through o.Publish: the stored control file and
// body as they were quarantined.
func (q *Quarantine) publishWith(dir, queueID string, o ReleaseOptions) (string, []string, error) {
	limit := q.QfLimits.MaxQfBytes
	if limit <= 0 {
		limit = sendmail.DefaultMaxQfBytes
	}
	ctl, err := readStored(filepath.Join(dir, sendmail.QfName(queueID)), limit)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNoQueue, err)
	}
	body, err := readStored(filepath.Join(dir, sendmail.DfName(queueID)), -1)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNoQueue, err)
	}
	return o.Publish(ctl, body, releaseTo(o.To), message.QScanHeader(o.OrgName, "-Released"), o.Now.Format(time.RFC1123Z))
}

// readStored reads a file of an entry, never through a symbolic link, at
// most max bytes (negative: no limit).
func readStored(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if max < 0 {
		return io.ReadAll(f)
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// recordRelease records a release in the entry's metadata and the index.
func (q *Quarantine) recordRelease(id, dir string, e Entry, newID string, to []string, now time.Time) (string, error) {
	o := ReleaseOptions{Now: now}
	e.Released = append(e.Released, Release{Time: o.Now, To: to, QueueID: newID})
	if err := writeMetadata(dir, e); err != nil {
		return newID, fmt.Errorf("quarantine release %s: released as %s but not recorded: %w", id, newID, err)
	}
	if q.Index != nil {
		if err := q.Index.MarkReleased(id, o.Now); err != nil {
			return newID, fmt.Errorf("quarantine index release %s: %w: %w", id, ErrIndex, err)
		}
	}
	return newID, nil
}

// releasedQf reads the quarantined qf and edits it for the release.
func (q *Quarantine) releasedQf(dir, queueID string, o ReleaseOptions) (*sendmail.Qf, error) {
	f, err := os.OpenFile(filepath.Join(dir, sendmail.QfName(queueID)), os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoQueue, err)
	}
	defer f.Close()
	qf, err := sendmail.ParseQf(f, q.QfLimits)
	// A qf whose recipients are gone can still go to new ones.
	if err != nil && !(errors.Is(err, sendmail.ErrNoRecipient) && qf != nil && len(o.To) > 0) {
		return nil, err
	}
	if len(o.To) > 0 {
		for _, r := range qf.Recipients() {
			qf.RemoveRecipient(r.Addr)
		}
		for _, addr := range releaseTo(o.To) {
			if err := qf.AddRecipient(addr); err != nil {
				return nil, err
			}
		}
	}
	if err := qf.ReplaceHeader(message.QScanHeader(o.OrgName, "-Released"), o.Now.Format(time.RFC1123Z)); err != nil {
		return nil, err
	}
	return qf, nil
}

// writeMetadata replaces metadata.json of the entry in dir durably.
func writeMetadata(dir string, e Entry) error {
	e.Dir, e.Incomplete, e.Warning = "", false, ""
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("quarantine metadata: %w", err)
	}
	path := filepath.Join(dir, metadataName)
	if _, err := safeio.WriteFile(path, bytes.NewReader(append(meta, '\n')), safeio.Options{Perm: 0o600, SyncDir: true}); err != nil {
		return err
	}
	matchOwner(path, dir)
	return nil
}

// matchOwner gives path the owner of dir when running as root, so that an
// admin's release leaves no file the daemon's user cannot read. Best
// effort: the file is already in place.
func matchOwner(path, dir string) {
	if os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat(dir)
	if err != nil {
		return
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		os.Lchown(path, int(s.Uid), int(s.Gid))
	}
}

// releaseTo returns the addresses of a release without angle brackets,
// each once (compared without case).
func releaseTo(to []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, addr := range to {
		addr = bareAddress(addr)
		if seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		out = append(out, addr)
	}
	return out
}
