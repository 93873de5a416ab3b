package exim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
	"golang.org/x/sys/unix"
)

// MaxIDTries bounds the search of Publish for a message ID that is free.
const MaxIDTries = 100

// SpoolMode is the mode of the spool files Exim makes (SPOOL_MODE); when
// this process cannot give them to the Exim user, they are made 0660 so
// that the Exim group may lock them.
const (
	SpoolMode      = 0o640
	spoolModeGroup = 0o660
	inputDirMode   = 0o750 // INPUT_DIRECTORY_MODE
)

// errExists: an O_EXCL create found the name taken.
var errExists = errors.New("exim: spool file exists")

// Publish writes one message into q under a free ID from gen, the way
// Exim's reception does: the -D file created and write-locked, "<ID>-D"
// and the body written and fsynced; the header file written as hdr.<ID>
// and fsynced; the directory fsynced; hdr.<ID> linked to <ID>-H (a link
// never replaces a message) and removed; the directory fsynced again; the
// lock released. A queue runner sees either nothing or the whole message.
// h gets the ID (SetID); body is the message body as the -D holds it (LF
// line ends). It returns the ID.
func (q Queue) Publish(gen *IDGen, h *H, body io.ReadSeeker) (string, error) {
	for range MaxIDTries {
		id := gen.Next()
		if q.Taken(id) {
			continue
		}
		if _, err := body.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("read body: %w", err)
		}
		d, err := q.CreateData(id, body)
		if errors.Is(err, errExists) {
			continue
		}
		if err != nil {
			return "", err
		}
		err = q.publishHeader(id, h)
		d.Close() // releases the lock: Exim may deliver it now
		if errors.Is(err, errExists) {
			continue
		}
		if err != nil {
			return "", err
		}
		return id, nil
	}
	return "", fmt.Errorf("no free message id in %s after %d tries", q.Dir, MaxIDTries)
}

func (q Queue) publishHeader(id string, h *H) error {
	if err := h.SetID(id); err != nil {
		return err
	}
	if err := q.WriteTempH(id, h.Bytes()); err != nil {
		os.Remove(q.DPath(id))
		return err
	}
	// The -D and hdr. names must be durable before the -H names them.
	if err := safeio.SyncDir(q.InputDir(id)); err != nil {
		q.Discard(id)
		return err
	}
	if err := q.PublishH(id); err != nil {
		if !errors.Is(err, errExists) {
			// Linked but perhaps not durable: the -H is ours (its -D is,
			// made with O_EXCL), and the caller keeps the message.
			os.Remove(q.HPath(id))
		}
		q.Discard(id)
		return err
	}
	return nil
}

// CreateData makes id's -D file, write-locked as Exim locks it while
// receiving: "<ID>-D\n" and body, fsynced. The caller closes the file
// (which releases the lock) once the -H is published. The name is not yet
// durable: fsync InputDir(id).
func (q Queue) CreateData(id string, body io.Reader) (*os.File, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("create -D: %q is not an Exim message ID", id)
	}
	if err := q.MakeInputDir(id); err != nil {
		return nil, err
	}
	path := q.DPath(id)
	f, err := q.createFile(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create -D %s: %w", path, err)
	}
	if err := lockData(f); err != nil {
		return fail(err)
	}
	if _, err := f.Write(DataPrefix(id)); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(f, body); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	return f, nil
}

// WriteTempH writes hdr.<ID>, the header file under the temporary name
// Exim uses (which no queue runner reads), and fsyncs it. As Exim does,
// a stale one left by a crash is removed first.
func (q Queue) WriteTempH(id string, data []byte) error {
	if err := q.MakeInputDir(id); err != nil {
		return err
	}
	path := q.TempHPath(id)
	f, err := q.createFile(path)
	if errors.Is(err, errExists) {
		os.Remove(path)
		f, err = q.createFile(path)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// PublishH makes hdr.<ID> the message's -H (link and unlink, so that an
// existing -H is never replaced) and fsyncs the directory. It is
// idempotent: run again after a crash, it finishes the job.
func (q Queue) PublishH(id string) error {
	tmp, hp := q.TempHPath(id), q.HPath(id)
	if _, err := os.Lstat(tmp); err == nil {
		if err := os.Link(tmp, hp); err != nil && !safeio.SameFile(tmp, hp) {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("publish %s: %w", hp, errExists)
			}
			return fmt.Errorf("publish %s: %w", hp, err)
		}
		os.Remove(tmp)
	} else if _, err := os.Lstat(hp); err != nil {
		return fmt.Errorf("publish %s: %w", hp, err)
	}
	return safeio.SyncDir(q.InputDir(id))
}

// Discard removes what CreateData and WriteTempH made for id, when the
// message will not be published.
func (q Queue) Discard(id string) {
	os.Remove(q.TempHPath(id))
	os.Remove(q.DPath(id))
}

// createFile creates path (never through an existing name or link), owned
// as the spool when this process may say so.
func (q Queue) createFile(path string) (*os.File, error) {
	mode := os.FileMode(spoolModeGroup)
	chown := q.UID > 0 && os.Geteuid() == 0
	if chown {
		mode = SpoolMode
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", path, errExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// As Exim (spool_open_temp): the owner, then the mode again, whatever
	// the umask made of it.
	err = nil
	if chown {
		err = f.Chown(q.UID, q.GID)
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, nil
}

// MakeInputDir makes input/<X>/ of a split spool (for id) when it is missing, as
// Exim does (mode 0750, owned as input/).
func (q Queue) MakeInputDir(id string) error {
	dir := q.InputDir(id)
	if !q.Split {
		return nil
	}
	if st, err := os.Lstat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("spool directory %s: %w", dir, ErrNotRegular)
		}
		return nil
	}
	if err := os.Mkdir(dir, inputDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("make spool directory %s: %w", dir, err)
	}
	if q.UID > 0 && os.Geteuid() == 0 {
		if err := os.Lchown(dir, q.UID, q.GID); err != nil {
			return fmt.Errorf("make spool directory %s: %w", dir, err)
		}
	}
	return safeio.SyncDir(filepath.Dir(dir))
}

// Remove deletes a message found in the spool (e from List), durably:
// the -H first (it is what makes a message, and Exim's own move of a
// message off its spool removes it first, spool_move_message), then the
// -D, the -J delivery journal and the message log, then fsyncs the
// directories. Hold the message's lock while removing it, as Exim does.
// Files already gone are no error.
func (q Queue) Remove(e Entry) error {
	msglog := filepath.Join(q.Dir, "msglog")
	if sub := filepath.Base(e.Dir); len(sub) == 1 && filepath.Dir(e.Dir) == filepath.Join(q.Dir, "input") {
		msglog = filepath.Join(msglog, sub)
	}
	var errs []error
	for _, p := range []string{e.HPath, e.DPath, filepath.Join(e.Dir, e.ID+"-J"), filepath.Join(msglog, e.ID)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	if err := safeio.SyncDir(e.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := safeio.SyncDir(msglog); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Enqueue queues a message file's bytes in q as Exim would have received
// it (SplitMessage, NewH, Publish), from sender to rcpts.
func (q Queue) Enqueue(gen *IDGen, raw []byte, sender string, rcpts []Recipient, o NewOpts) (string, error) {
	header, body := SplitMessage(raw)
	o.BodyLines = CountLines(body)
	o.BodyMaxLine = maxLineLen(body)
	h, err := NewH(sender, rcpts, header, o)
	if err != nil {
		return "", err
	}
	return q.Publish(gen, h, bytes.NewReader(body))
}

func maxLineLen(b []byte) int {
	m := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return max(m, len(b))
		}
		m = max(m, i)
		b = b[i+1:]
	}
	return m
}

// SplitMessage splits a message at its first empty line, with line ends
// made LF as Exim stores them.
func SplitMessage(raw []byte) (header, body []byte) {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:]
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil, raw[1:]
	}
	return raw, nil
}
