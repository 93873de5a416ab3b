// Package safeio writes files durably: data goes to a temporary file in the
// destination directory, is fsynced, renamed into place, and the directory
// is fsynced by the caller once per batch (or by WriteFile for single files).
//
// Everything qscan writes into a queue or quarantine directory goes through
// this package.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// TempPrefix starts the names of qscan's own temporary files, so that
// start-up recovery can remove them without touching the MTA's files.
const TempPrefix = ".qscan-tmp-"

// ErrExists is returned when the destination already exists and the write
// was asked not to replace it.
var ErrExists = errors.New("safeio: destination exists")

// Options tune a write.
type Options struct {
	Perm      os.FileMode // file mode; 0 means 0600
	TempName  string      // name of the temporary file; "" means a generated TempPrefix name
	NoClobber bool        // fail with ErrExists instead of replacing the destination
	SyncDir   bool        // fsync the directory after the rename
}

// WriteFile writes the data read from r to path durably: temp file in the
// same directory (rename is only atomic within one filesystem), fsync, then
// rename. It returns the number of bytes written.
func WriteFile(path string, r io.Reader, o Options) (int64, error) {
	dir := filepath.Dir(path)
	perm := o.Perm
	if perm == 0 {
		perm = 0o600
	}
	var f *os.File
	var err error
	if o.TempName != "" {
		f, err = os.OpenFile(filepath.Join(dir, o.TempName), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	} else {
		f, err = os.CreateTemp(dir, TempPrefix+"*")
		if err == nil {
			err = f.Chmod(perm)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("safeio create temp in %s: %w", dir, err)
	}
	tmp := f.Name()
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return n, fmt.Errorf("safeio write %s: %w", tmp, err)
	}
	if o.NoClobber {
		// link+unlink instead of rename: link fails if the destination exists.
		if err := os.Link(tmp, path); err != nil {
			os.Remove(tmp)
			if errors.Is(err, os.ErrExist) {
				return n, fmt.Errorf("safeio publish %s: %w", path, ErrExists)
			}
			return n, fmt.Errorf("safeio publish %s: %w", path, err)
		}
		if err := os.Remove(tmp); err != nil {
			return n, fmt.Errorf("safeio remove temp %s: %w", tmp, err)
		}
	} else if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return n, fmt.Errorf("safeio rename %s: %w", path, err)
	}
	if o.SyncDir {
		if err := SyncDir(dir); err != nil {
			return n, err
		}
	}
	return n, nil
}

// CreateNew writes a new file at path durably: it fails with ErrExists if
// path exists, and otherwise writes, fsyncs and closes it. Use it for names
// that nothing reads until a later rename publishes them (sendmail's tf
// and a df without its qf); a failed write leaves no file behind. The
// directory still needs a SyncDir.
func CreateNew(path string, r io.Reader, perm os.FileMode) (int64, error) {
	if perm == 0 {
		perm = 0o600
	}
	f, err := Open(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, fmt.Errorf("safeio create %s: %w", path, ErrExists)
		}
		return 0, fmt.Errorf("safeio create %s: %w", path, err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return n, fmt.Errorf("safeio write %s: %w", path, err)
	}
	return n, nil
}

// SyncDir fsyncs a directory so that renames, links and unlinks in it are
// durable.
func SyncDir(dir string) error {
	fd, err := openFd(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("safeio open dir %s: %w", dir, err)
	}
	defer unix.Close(fd)
	for {
		err = unix.Fsync(fd)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("safeio fsync dir %s: %w", dir, err)
	}
	return nil
}

// SameFile reports whether two paths name the same inode.
func SameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// RemoveTemps removes qscan's own temporary files (TempPrefix) from dir and
// returns their names. Files of other programs are never touched.
func RemoveTemps(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, m := range matches {
		if err := os.Remove(m); err == nil {
			removed = append(removed, filepath.Base(m))
		}
	}
	return removed, nil
}
