package postfix

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Queue names inside a Postfix queue directory.
const (
	Incoming = "incoming" // new mail; the queue manager takes it from here
	Active   = "active"
	Deferred = "deferred"
	Hold     = "hold" // parked by header_checks HOLD; qscan takes it from here
	Corrupt  = "corrupt"
)

// ReadyMode is the permission a queue file has when complete: cleanup
// writes it with 0600 and sets 0700 (the owner's execute bit) when it is
// done (MAIL_QUEUE_STAT_READY); Postfix opens no file without it.
const ReadyMode = 0o700

// Queue is a Postfix queue_directory and the main.cf settings that say
// where a queue file lives and how its ID looks.
type Queue struct {
	Dir string // queue_directory
	// HashNames lists the queues whose files go into hashed
	// sub-directories (hash_queue_names); nil means Postfix's default,
	// "deferred, defer".
	HashNames []string
	// HashDepth is hash_queue_depth, the number of sub-directory levels
	// (one character of the ID each); 0 means Postfix's default, 1.
	HashDepth int
	// LongIDs is enable_long_queue_ids: Publish makes long IDs. Short IDs
	// (the default) are valid with either setting.
	LongIDs bool
}

// DefaultHashNames is Postfix's default hash_queue_names.
var DefaultHashNames = []string{"deferred", "defer"}

func (q Queue) hashed(queue string) bool {
	names := q.HashNames
	if names == nil {
		names = DefaultHashNames
	}
	for _, n := range names {
		if strings.EqualFold(n, queue) {
			return true
		}
	}
	return false
}

func (q Queue) depth() int {
	if q.HashDepth <= 0 {
		return 1
	}
	return q.HashDepth
}

// SubDir returns the directory that holds queue file id of queue
// (mail_queue_dir): Dir/queue, plus one level per hash_queue_depth for a
// hashed queue, named by the ID's characters ('_' past its end).
func (q Queue) SubDir(queue, id string) string {
	dir := filepath.Join(q.Dir, queue)
	if !q.hashed(queue) {
		return dir
	}
	key := hashKey(id)
	for n := 0; n < q.depth(); n++ {
		c := "_"
		if n < len(key) {
			c = key[n : n+1]
		}
		dir = filepath.Join(dir, c)
	}
	return dir
}

// Path returns the path of queue file id in queue (mail_queue_path).
func (q Queue) Path(queue, id string) string { return filepath.Join(q.SubDir(queue, id), id) }

// Entry is one queue file.
type Entry struct {
	ID      string
	Queue   string
	Path    string
	ModTime time.Time
	Size    int64
	Ready   bool // mode 0700: complete; otherwise cleanup is still writing it (or died doing so)
}

// List returns the queue files of queue, oldest first (then by ID):
// regular files named by a ValidID, in the queue directory and in its
// one-character sub-directories whatever the hash settings (as Postfix's
// own scan does). Files not Ready are listed with Ready false; symbolic
// links, other names and deeper directories are ignored.
func (q Queue) List(queue string) ([]Entry, error) {
	var out []Entry
	if err := q.scan(queue, filepath.Join(q.Dir, queue), 0, &out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// maxScanDepth bounds the sub-directory levels List descends
// (hash_queue_depth is at most a few levels in practice).
const maxScanDepth = 8

func (q Queue) scan(queue, dir string, depth int, out *[]Entry) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		if depth > 0 && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("list queue %s: %w", dir, err)
	}
	for _, de := range des {
		name := de.Name()
		if len(name) == 1 && de.IsDir() {
			if depth < maxScanDepth {
				if err := q.scan(queue, filepath.Join(dir, name), depth+1, out); err != nil {
					return err
				}
			}
			continue
		}
		if !ValidID(name) || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered or moved since ReadDir
		}
		if err != nil {
			return fmt.Errorf("list queue %s: %w", dir, err)
		}
		*out = append(*out, Entry{ID: name, Queue: queue, Path: filepath.Join(dir, name),
			ModTime: info.ModTime(), Size: info.Size(), Ready: info.Mode().Perm()&0o700 == ReadyMode})
	}
	return nil
}

// Taken reports whether queue file id exists in any of the queues that
// hold messages (incoming, active, deferred, hold, corrupt).
func (q Queue) Taken(id string) bool {
	for _, queue := range []string{Incoming, Active, Deferred, Hold, Corrupt} {
		if _, err := os.Lstat(q.Path(queue, id)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}
