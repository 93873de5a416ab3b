package sendmail

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// QfName returns the name of the qf file of queue ID id.
func QfName(id string) string { return "qf" + id }

// DfName returns the name of the df (body) file of queue ID id.
func DfName(id string) string { return "df" + id }

// TfName returns the name of the temporary qf that is renamed to the qf.
func TfName(id string) string { return "tf" + id }

// XfName returns the name of the transcript file of queue ID id.
func XfName(id string) string { return "xf" + id }

// Queue is a queue directory: flat (all files in Dir) or nested (Dir has
// qf/, df/ and optionally xf/ subdirectories, sendmail's QueueDirectory
// with subdirectories). sendmail looks at each sub-directory on its own:
// with only qf/, the qf and tf files go there and the df files stay in
// Dir; with only df/, the other way round. SubQf and SubDf say which.
type Queue struct {
	Dir    string
	Nested bool // qf/ and df/ both: the same as SubQf and SubDf
	SubQf  bool // qf and tf files in Dir/qf
	SubDf  bool // df files in Dir/df
}

// OpenQueue looks at dir and tells its layout, as sendmail does: qf and tf
// files in dir/qf when it is a directory, df files in dir/df when it is
// one.
func OpenQueue(dir string) (Queue, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Queue{}, fmt.Errorf("open queue %s: %w", dir, err)
	}
	if !st.IsDir() {
		return Queue{}, fmt.Errorf("open queue %s: not a directory", dir)
	}
	q := Queue{Dir: dir, SubQf: isDir(filepath.Join(dir, "qf")), SubDf: isDir(filepath.Join(dir, "df"))}
	q.Nested = q.SubQf && q.SubDf
	return q, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func (q Queue) path(sub, name string) string {
	if q.Nested || sub == "qf" && q.SubQf || sub == "df" && q.SubDf {
		return filepath.Join(q.Dir, sub, name)
	}
	return filepath.Join(q.Dir, name)
}

// Dirs returns the directories that hold the queue's qf (and tf) files and
// its df files: one for a flat queue, two for a nested one. A writer
// fsyncs them; temporary files of a writer are there.
func (q Queue) Dirs() []string {
	qf, df := filepath.Dir(q.QfPath("x")), filepath.Dir(q.DfPath("x"))
	if qf == df {
		return []string{qf}
	}
	return []string{qf, df}
}

// QfPath returns the path of the qf file of id.
func (q Queue) QfPath(id string) string { return q.path("qf", QfName(id)) }

// DfPath returns the path of the df file of id.
func (q Queue) DfPath(id string) string { return q.path("df", DfName(id)) }

// TfPath returns the path of the temporary qf of id (it lives with the qf).
func (q Queue) TfPath(id string) string { return q.path("qf", TfName(id)) }

// Entry is one message in a queue directory.
type Entry struct {
	ID        string
	QfPath    string
	DfPath    string
	ModTime   time.Time // of the qf
	Size      int64     // qf plus df bytes
	DfMissing bool      // no regular df: the caller should set the message aside
	Empty     bool      // the qf is empty: being created, or left behind by a crash
}

// List lists the messages of the queue directory dir (see Queue.List).
func List(dir string) ([]Entry, error) {
	q, err := OpenQueue(dir)
	if err != nil {
		return nil, err
	}
	return q.List()
}

// List returns the messages of the queue, oldest qf first (then by ID). It
// lists regular, non-empty qf files whose name is "qf" plus a ValidID, and
// ignores everything else: tf (being written), xf, hf, Qf (lost), symlinks
// and directories. A message whose df is missing is listed with DfMissing
// set, an empty qf (sendmail still creating it) with Empty set.
func (q Queue) List() ([]Entry, error) {
	qdir := q.path("qf", "")
	des, err := os.ReadDir(qdir)
	if err != nil {
		return nil, fmt.Errorf("list queue %s: %w", q.Dir, err)
	}
	var out []Entry
	for _, de := range des {
		id, ok := strings.CutPrefix(de.Name(), "qf")
		if !ok || !ValidID(id) || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered or moved since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list queue %s: %w", q.Dir, err)
		}
		if info.Size() == 0 {
			// Normally sendmail still creating it; listed so that one left
			// behind for long can be set aside by the caller.
			out = append(out, Entry{ID: id, QfPath: q.QfPath(id), DfPath: q.DfPath(id), ModTime: info.ModTime(), Empty: true})
			continue
		}
		e := Entry{ID: id, QfPath: q.QfPath(id), DfPath: q.DfPath(id), ModTime: info.ModTime(), Size: info.Size()}
		if df, err := os.Lstat(e.DfPath); err == nil && df.Mode().IsRegular() {
			e.Size += df.Size()
		} else {
			e.DfMissing = true
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// WriteDf copies a message body to w as a df file holds it: the bytes as
// received, without dot-stuffing or the final dot. It returns the number
// of bytes written.
func WriteDf(w io.Writer, body io.Reader) (int64, error) {
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("write df: %w", err)
	}
	return n, nil
}

// Stats counts the messages in the queue directories dirs and says how
// long the oldest has waited at now (0 when there is none).
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
