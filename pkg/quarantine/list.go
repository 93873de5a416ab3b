package quarantine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// noFollow makes opening a symbolic link fail: metadata.json is ours,
// never a link to something else.
const noFollow = syscall.O_NOFOLLOW

// maxSuffixDigits bounds the ".N" of an entry name (newEntryDir stops
// below 1000).
const maxSuffixDigits = 4

// ValidID reports whether id has the form of an entry id,
// YYYYMMDD/QUEUEID or YYYYMMDD/QUEUEID.N, with a queue id of
// [A-Za-z0-9_-] only. Such an id names a directory exactly one level
// below a day directory and can never climb out of the quarantine.
func ValidID(id string) bool {
	day, name, ok := strings.Cut(id, "/")
	if !ok || !validDay(day) {
		return false
	}
	_, ok = splitName(name)
	return ok
}

// validDay reports whether s is eight ASCII digits.
func validDay(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitName returns the queue id of an entry directory name "ID" or
// "ID.N".
func splitName(name string) (string, bool) {
	base, n, dotted := strings.Cut(name, ".")
	if !sendmail.ValidID(base) {
		return "", false
	}
	if dotted {
		if n == "" || len(n) > maxSuffixDigits {
			return "", false
		}
		for i := 0; i < len(n); i++ {
			if n[i] < '0' || n[i] > '9' {
				return "", false
			}
		}
	}
	return base, true
}

// Path returns the directory of entry id, after checking the id.
func (q *Quarantine) Path(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("quarantine %q: %w", id, ErrBadID)
	}
	day, name, _ := strings.Cut(id, "/")
	return filepath.Join(q.Dir, day, name), nil
}

// entryDir returns the directory of id, which must exist and be a real
// directory (a symbolic link is refused: it could lead anywhere).
func (q *Quarantine) entryDir(id string) (string, error) {
	dir, err := q.Path(id)
	if err != nil {
		return "", err
	}
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("quarantine %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("quarantine %s: %w", id, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("quarantine %s: %w (not a directory)", id, ErrNotFound)
	}
	return dir, nil
}

// Get returns entry id. An entry without a usable metadata.json is
// returned with Incomplete set and a nil error.
func (q *Quarantine) Get(id string) (Entry, error) {
	dir, err := q.entryDir(id)
	if err != nil {
		return Entry{}, err
	}
	return q.readEntry(id, dir), nil
}

func (q *Quarantine) maxMetadata() int64 {
	if q.MaxMetadataBytes > 0 {
		return q.MaxMetadataBytes
	}
	return DefaultMaxMetadataBytes
}

// readEntry reads the metadata of the entry in dir. It never fails: what
// cannot be read gives an incomplete entry that says why.
func (q *Quarantine) readEntry(id, dir string) Entry {
	e, err := decodeEntry(dir, q.maxMetadata())
	if err != nil {
		e = Entry{Incomplete: true, Warning: err.Error()}
		e.QueueID, _ = splitName(filepath.Base(dir))
		if st, err := os.Lstat(dir); err == nil {
			e.Time = st.ModTime()
		}
	}
	// The location is the truth: a copied or edited metadata.json cannot
	// make an entry answer to another id.
	e.ID, e.Dir = id, dir
	return e
}

// decodeEntry reads dir/metadata.json, at most max bytes of it.
func decodeEntry(dir string, max int64) (Entry, error) {
	f, err := os.OpenFile(filepath.Join(dir, metadataName), os.O_RDONLY|noFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, errors.New("incomplete: no metadata.json")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("metadata.json: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return Entry{}, fmt.Errorf("metadata.json: %w", err)
	}
	return parseEntry(b, max)
}

// parseEntry decodes metadata.json bytes, refusing more than max.
func parseEntry(b []byte, max int64) (Entry, error) {
	if int64(len(b)) > max {
		return Entry{}, fmt.Errorf("metadata.json: larger than %d bytes", max)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("metadata.json: %w", err)
	}
	e.Dir, e.Incomplete, e.Warning = "", false, ""
	return e, nil
}

// List returns the entries of the days since since (all when zero), the
// newest first. Each day directory is read once; an entry whose metadata
// cannot be read is listed as incomplete with a warning. At most MaxList
// entries are returned; when more exist, the newest MaxList come with an
// error wrapping ErrTruncated.
func (q *Quarantine) List(since time.Time) ([]Entry, error) {
	days, err := q.days()
	if err != nil {
		return nil, err
	}
	max := q.MaxList
	if max <= 0 {
		max = DefaultMaxList
	}
	var out []Entry
	for _, d := range days {
		if !since.IsZero() && !d.t.AddDate(0, 0, 1).After(since) {
			break // days are newest first: all the rest are older
		}
		es, err := q.listDay(d.name)
		if err != nil {
			return out, err
		}
		for _, e := range es {
			if !since.IsZero() && e.Time.Before(since) {
				continue
			}
			if len(out) == max {
				return out, fmt.Errorf("quarantine list %s: %w at %d entries", q.Dir, ErrTruncated, max)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

type day struct {
	name string
	t    time.Time // midnight UTC
}

// days returns the day directories, newest first. Other names are
// ignored.
func (q *Quarantine) days() ([]day, error) {
	des, err := os.ReadDir(q.Dir)
	if err != nil {
		return nil, fmt.Errorf("quarantine list %s: %w", q.Dir, err)
	}
	var ds []day
	for _, de := range des {
		if !de.IsDir() || !validDay(de.Name()) {
			continue
		}
		t, err := time.Parse("20060102", de.Name())
		if err != nil {
			continue
		}
		ds = append(ds, day{de.Name(), t})
	}
	slices.SortFunc(ds, func(a, b day) int { return strings.Compare(b.name, a.name) })
	return ds, nil
}

// listDay reads the entries of one day directory, newest first.
func (q *Quarantine) listDay(name string) ([]Entry, error) {
	dayDir := filepath.Join(q.Dir, name)
	des, err := os.ReadDir(dayDir)
	if err != nil {
		return nil, fmt.Errorf("quarantine list %s: %w", dayDir, err)
	}
	var es []Entry
	for _, de := range des {
		if !de.IsDir() {
			continue // symbolic links included: never followed
		}
		if _, ok := splitName(de.Name()); !ok {
			continue
		}
		es = append(es, q.readEntry(name+"/"+de.Name(), filepath.Join(dayDir, de.Name())))
	}
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return es, nil
}

// File is one file of an entry directory.
type File struct {
	Name string
	Size int64
}

// Files lists the files in the directory of entry id, by name.
func (q *Quarantine) Files(id string) ([]File, error) {
	dir, err := q.entryDir(id)
	if err != nil {
		return nil, err
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("quarantine files %s: %w", id, err)
	}
	var files []File
	for _, de := range des {
		f := File{Name: de.Name(), Size: -1}
		if info, err := de.Info(); err == nil {
			f.Size = info.Size()
		}
		files = append(files, f)
	}
	return files, nil
}
