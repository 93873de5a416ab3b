package health

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// readDirChunk is how many directory entries are read at a time, so that
// a queue of a million files does not need a million entries in memory.
const readDirChunk = 1024

// oldest is the oldest non-empty qf file of a queue.
type oldest struct {
	id    string
	mtime time.Time
	count int // qf files looked at
}

// checkQueue reports the oldest message of an incoming queue when it has
// waited longer than QueueMaxAge, and a queue with more than MaxQueueFiles
// messages.
func checkQueue(dir string, o Options, now time.Time) []Problem {
	var old oldest
	limit := o.MaxQueueFiles
	layout := o.QueueLayout
	if layout == nil {
		layout = sendmailLayout
	}
	dirs, idOf := layout(dir)
	for i, d := range dirs {
		err := scanQF(d, &old, limit, idOf)
		if err != nil && !(i > 0 && errors.Is(err, os.ErrNotExist)) {
			return []Problem{{Kind: KindQueue, Text: fmt.Sprintf("incoming queue %s: %v", dir, err)}}
		}
	}
	var ps []Problem
	if old.count >= limit {
		ps = append(ps, Problem{Kind: KindQueue, Text: fmt.Sprintf(
			"incoming queue %s: %d messages or more (only the first %d looked at)", dir, limit, limit)})
	}
	if old.id != "" {
		if age := now.Sub(old.mtime); age > o.QueueMaxAge {
			ps = append(ps, Problem{Kind: KindQueue, Text: fmt.Sprintf(
				"incoming queue %s: oldest message %s is %s old (limit %s)", dir, old.id, dur(age), dur(o.QueueMaxAge))})
		}
	}
	return ps
}

// sendmailLayout: sendmail keeps qf files either in the queue dir or,
// when the dir has qf/ df/ xf/ subdirectories, in qf/.
func sendmailLayout(dir string) ([]string, func(string) (string, bool)) {
	return []string{dir, filepath.Join(dir, "qf")}, func(name string) (string, bool) {
		id, ok := strings.CutPrefix(name, "qf")
		return id, ok && id != ""
	}
}

// scanQF updates old with the control files of dir (idOf), stopping
// after limit files in all.
func scanQF(dir string, old *oldest, limit int, idOf func(string) (string, bool)) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	for old.count < limit {
		ents, err := f.ReadDir(readDirChunk)
		for _, e := range ents {
			id, ok := idOf(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil || fi.Size() == 0 {
				continue // gone meanwhile, or sendmail still writing it
			}
			old.count++
			if old.id == "" || fi.ModTime().Before(old.mtime) {
				old.id, old.mtime = id, fi.ModTime()
			}
			if old.count >= limit {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read dir %s: %w", dir, err)
		}
	}
	return nil
}
