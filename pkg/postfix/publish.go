package postfix

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/safeio"
)

// MaxIDTries bounds the search of Publish for a free queue ID.
const MaxIDTries = 100

// tempPrefix names qscan's temporary files at the top of a queue: not a
// valid queue ID (it has a '.'), so Postfix never opens one.
const tempPrefix = "qscan."

// Publish writes data as a new queue file into the incoming queue, where
// the queue manager finds it (see PublishTo), and returns its ID.
func (q Queue) Publish(data []byte, clock func() time.Time) (string, error) {
	return q.PublishTo(Incoming, data, clock)
}

// PublishTo writes data as a new queue file of queue the way cleanup
// does, so that Postfix sees either nothing or the whole file: a
// temporary file at the top of the queue (mode 0600), the data, fsync,
// the ready mode 0700, fsync; then the queue ID from the time (clock;
// nil is time.Now) and the file's inode, as mail_queue_enter makes it,
// short or long as q.LongIDs says; then a hard link to the ID's path
// (hashed sub-directory made as needed; a link never replaces a file),
// the temporary name removed and the directories fsynced. Run as root,
// the file is given to the owner of the queue directory, whose queue
// manager must open it read-write.
func (q Queue) PublishTo(queue string, data []byte, clock func() time.Time) (string, error) {
	if clock == nil {
		clock = time.Now
	}
	top := filepath.Join(q.Dir, queue)
	tmp, ino, err := writeTemp(top, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	for range MaxIDTries {
		now := clock()
		id := ShortID(now, ino)
		if q.LongIDs {
			id = LongID(now, ino)
		}
		dst := q.Path(queue, id)
		if err := q.mkSubDirs(queue, id); err != nil {
			return "", err
		}
		err := os.Link(tmp, dst)
		if errors.Is(err, os.ErrExist) {
			// A stale file of an old inode with the same short ID; the
			// next microsecond gives another.
			time.Sleep(time.Microsecond)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("publish %s: %w", dst, err)
		}
		if err := os.Remove(tmp); err != nil {
			return "", fmt.Errorf("publish %s: remove %s: %w", dst, tmp, err)
		}
		if err := safeio.SyncDir(filepath.Dir(dst)); err != nil {
			return "", err
		}
		if filepath.Dir(dst) != top {
			if err := safeio.SyncDir(top); err != nil {
				return "", err
			}
		}
		return id, nil
	}
	return "", fmt.Errorf("publish into %s: no free queue id after %d tries", top, MaxIDTries)
}

// TempPath is where Stage writes the file of id for queue: at the top of
// the queue, under a name that is no queue ID, which Postfix never opens
// (RemoveTemps removes those a crash left).
func (q Queue) TempPath(queue, id string) string {
	return filepath.Join(q.Dir, queue, tempPrefix+id)
}

// Stage writes data as the queue file id of queue will be, durably and
// complete (mode 0700, owned like the queue directory when run as root),
// under TempPath, and makes id's hashed sub-directories: a hard link to
// Path(queue, id) then publishes it (a link never replaces a file), as
// cleanup does. It fails if the temporary file exists.
func (q Queue) Stage(queue, id string, data []byte) error {
	if !ValidID(id) {
		return fmt.Errorf("stage %q: not a Postfix queue ID", id)
	}
	if err := q.mkSubDirs(queue, id); err != nil {
		return err
	}
	_, _, err := writeFile(filepath.Join(q.Dir, queue), q.TempPath(queue, id), data)
	return err
}

// writeTemp writes data durably to a new temporary file in dir with the
// ready mode, owned like dir when this process is root, and returns its
// path and inode.
func writeTemp(dir string, data []byte) (string, uint64, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return writeFile(dir, filepath.Join(dir, fmt.Sprintf("%s%d.%s", tempPrefix, os.Getpid(), hex.EncodeToString(rnd[:]))), data)
}

// writeFile writes data durably to the new file path in dir (see
// writeTemp).
func writeFile(dir, path string, data []byte) (string, uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return "", 0, fmt.Errorf("publish into %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("publish into %s: %w", dir, err)
	}
	fail := func(err error) (string, uint64, error) {
		f.Close()
		os.Remove(path)
		return "", 0, fmt.Errorf("publish %s: %w", path, err)
	}
	if os.Geteuid() == 0 && st.Uid != 0 {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fail(err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	// The execute bit says "complete" to Postfix; set only on durable data.
	if err := f.Chmod(ReadyMode); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", 0, fmt.Errorf("publish %s: %w", path, err)
	}
	return path, fi.Sys().(*syscall.Stat_t).Ino, nil
}

// mkSubDirs makes the hashed sub-directories of id in queue (mode 0700,
// owned like the queue directory), as mail_queue_mkdirs does.
func (q Queue) mkSubDirs(queue, id string) error {
	top := filepath.Join(q.Dir, queue)
	want := q.SubDir(queue, id)
	if want == top {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(top, &st); err != nil {
		return fmt.Errorf("publish into %s: %w", top, err)
	}
	rel, _ := filepath.Rel(top, want)
	dir := top
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		dir = filepath.Join(dir, part)
		err := os.Mkdir(dir, 0o700)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if os.Geteuid() == 0 && st.Uid != 0 {
			if err := os.Lchown(dir, int(st.Uid), int(st.Gid)); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
		}
		if err := safeio.SyncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	return nil
}

// RemoveTemps removes the temporary files a crashed Publish left at the
// top of queue (never Postfix's own) and returns their names.
func (q Queue) RemoveTemps(queue string) ([]string, error) {
	dir := filepath.Join(q.Dir, queue)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remove temps %s: %w", dir, err)
	}
	var out []string
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tempPrefix) || !de.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, de.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return out, fmt.Errorf("remove temps %s: %w", dir, err)
		}
		out = append(out, de.Name())
	}
	if len(out) > 0 {
		return out, safeio.SyncDir(dir)
	}
	return out, nil
}
