package exim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Queue is the spool of one Exim instance: Dir is its spool_directory,
// whose input/ holds the -H and -D files (in input/<X>/ with
// split_spool_directory, X the sixth character of the ID) and msglog/ the
// message logs.
type Queue struct {
	Dir   string
	Split bool // split_spool_directory: new messages go to input/<X>/
	// UID and GID own the files Publish makes when this process may give
	// them away (root) and UID is not root's; OpenQueue sets them to the
	// owner of input/. Otherwise files are made 0660, so that the Exim
	// group may lock them.
	UID, GID int
}

// OpenQueue returns the spool at dir; split is the instance's
// split_spool_directory setting. Exim reads both layouts whatever the
// setting (leftovers from before a change), and so does List.
func OpenQueue(dir string, split bool) (Queue, error) {
	st, err := os.Stat(filepath.Join(dir, "input"))
	if err != nil {
		return Queue{}, fmt.Errorf("open exim spool %s: %w", dir, err)
	}
	if !st.IsDir() {
		return Queue{}, fmt.Errorf("open exim spool %s: input is not a directory", dir)
	}
	q := Queue{Dir: dir, Split: split, UID: -1, GID: -1}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		q.UID, q.GID = int(sys.Uid), int(sys.Gid)
	}
	return q, nil
}

// Subdir returns the split-spool sub-directory of id: its sixth
// character, the last digit of the arrival second.
func Subdir(id string) string {
	if len(id) < 6 {
		return ""
	}
	return id[5:6]
}

// InputDir returns the directory that holds the files of a new message
// id: input/ or, split, input/<X>/.
func (q Queue) InputDir(id string) string {
	if q.Split {
		return filepath.Join(q.Dir, "input", Subdir(id))
	}
	return filepath.Join(q.Dir, "input")
}

// MsglogDir returns the directory of id's message log.
func (q Queue) MsglogDir(id string) string {
	if q.Split {
		return filepath.Join(q.Dir, "msglog", Subdir(id))
	}
	return filepath.Join(q.Dir, "msglog")
}

// HPath, DPath, JPath and TempHPath are the -H, -D, -J (delivery journal)
// and temporary header ("hdr.<ID>", renamed to -H) files of a new
// message id; MsglogPath its message log.
func (q Queue) HPath(id string) string     { return filepath.Join(q.InputDir(id), id+"-H") }
func (q Queue) DPath(id string) string     { return filepath.Join(q.InputDir(id), id+"-D") }
func (q Queue) JPath(id string) string     { return filepath.Join(q.InputDir(id), id+"-J") }
func (q Queue) TempHPath(id string) string { return filepath.Join(q.InputDir(id), "hdr."+id) }
func (q Queue) MsglogPath(id string) string {
	return filepath.Join(q.MsglogDir(id), id)
}

// Entry is one message in a spool: a regular -H file whose name is a
// ValidID plus "-H".
type Entry struct {
	ID       string
	Dir      string // the input directory it was found in
	HPath    string
	DPath    string
	ModTime  time.Time // of the -H
	Size     int64     // -H plus -D bytes
	DMissing bool      // no regular -D: the caller should set it aside
	Empty    bool      // the -H is empty: Exim never leaves one (it renames a complete file)
}

// Taken reports whether any file of id (-H, -D, -J, hdr.) exists in the
// spool, in the split or the flat layout.
func (q Queue) Taken(id string) bool {
	for _, split := range []bool{false, true} {
		qq := q
		qq.Split = split
		for _, p := range []string{qq.HPath(id), qq.DPath(id), qq.JPath(id), qq.TempHPath(id)} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				return true
			}
		}
	}
	return false
}

// List lists the messages of the spool at dir (see Queue.List).
func List(dir string) ([]Entry, error) {
	return Queue{Dir: dir}.List()
}

// List returns the messages of the spool in Exim's queue order (by
// arrival second, then sub-second: CompareIDs), from input/ and every
// one-character input/<X>/, as Exim finds them whatever its
// split_spool_directory says. Everything else is ignored: -D files alone
// (being received), hdr.* temporaries, -J journals, symlinks.
func (q Queue) List() ([]Entry, error) {
	in := filepath.Join(q.Dir, "input")
	des, err := os.ReadDir(in)
	if err != nil {
		return nil, fmt.Errorf("list exim spool %s: %w", q.Dir, err)
	}
	out, err := listDir(in)
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		if len(de.Name()) == 1 && de.IsDir() {
			es, err := listDir(filepath.Join(in, de.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, es...)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return CompareIDs(a.ID, b.ID) })
	return out, nil
}

func listDir(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a sub-directory removed since
	}
	if err != nil {
		return nil, fmt.Errorf("list exim spool %s: %w", dir, err)
	}
	var out []Entry
	for _, de := range des {
		id, ok := strings.CutSuffix(de.Name(), "-H")
		if !ok || !ValidID(id) || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered or removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list exim spool %s: %w", dir, err)
		}
		e := Entry{ID: id, Dir: dir, HPath: filepath.Join(dir, id+"-H"), DPath: filepath.Join(dir, id+"-D"),
			ModTime: info.ModTime(), Size: info.Size(), Empty: info.Size() == 0}
		if d, err := os.Lstat(e.DPath); err == nil && d.Mode().IsRegular() {
			e.Size += d.Size()
		} else {
			e.DMissing = true
		}
		out = append(out, e)
	}
	return out, nil
}

// Stats counts the messages in the spools dirs and says how long the
// oldest has waited at now (0 when there is none).
func Stats(dirs []string, now time.Time) (n int, oldest time.Duration) {
	var first time.Time
	for _, d := range dirs {
		es, _ := List(d)
		for _, e := range es {
			n++
			if first.IsZero() || e.ModTime.Before(first) {
				first = e.ModTime
			}
		}
	}
	if first.IsZero() {
		return n, 0
	}
	return n, now.Sub(first)
}
