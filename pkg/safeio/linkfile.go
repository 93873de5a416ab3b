package safeio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrChanged means a file was changed or replaced since it was read: what
// it holds now is not what was checked, so it is not published.
var ErrChanged = errors.New("safeio: file changed since it was read")

// Stamp identifies the content of an open file: its inode, size and
// modification time. A write into the file changes it.
type Stamp struct {
	Ino, Size int64
	Mtime     int64 // nanoseconds
}

// StampOf returns f's stamp now.
func StampOf(f *os.File) (Stamp, error) {
	var st unix.Stat_t
	if err := fdOf(f, func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
		return Stamp{}, fmt.Errorf("safeio fstat %s: %w", f.Name(), err)
	}
	return Stamp{Ino: int64(st.Ino), Size: st.Size, Mtime: st.Mtim.Nano()}, nil
}

// LinkFile makes dst a hard link to the very file open as src, whatever
// src's path names now (a path can be renamed over or swapped for a
// symbolic link after the file was read; the open file cannot). want is
// the stamp src had when it was read: a file written to since is
// refused with ErrChanged. Where the filesystem cannot link, dst becomes a
// durable copy read through src. An existing dst is never replaced
// (ErrExists).
func LinkFile(src *os.File, dst string, want Stamp, perm os.FileMode) (linked bool, err error) {
	if st, err := StampOf(src); err != nil {
		return false, err
	} else if st != want {
		return false, fmt.Errorf("safeio link %s: %s: %w", dst, src.Name(), ErrChanged)
	}
	// linkat(2) of /proc/self/fd/N with AT_SYMLINK_FOLLOW links the open
	// file itself (the documented way for O_TMPFILE files).
	err = fdOf(src, func(fd int) error {
		proc := "/proc/self/fd/" + strconv.Itoa(fd)
		return unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	})
	switch {
	case err == nil:
		return true, checkLinked(src, dst)
	case errors.Is(err, syscall.EEXIST):
		return false, fmt.Errorf("safeio link %s: %w", dst, ErrExists)
	case !(errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) || errors.Is(err, syscall.ENOENT)):
		return false, fmt.Errorf("safeio link %s: %w", dst, err)
	}
	// No /proc (ENOENT) or no link across these directories: a copy of
	// what the open file holds.
	_, err = WriteFile(dst, io.NewSectionReader(src, 0, want.Size), Options{Perm: perm, NoClobber: true})
	if err == nil {
		if st, serr := StampOf(src); serr != nil || st != want {
			os.Remove(dst)
			return false, fmt.Errorf("safeio copy %s: %s: %w", dst, src.Name(), ErrChanged)
		}
	}
	return false, err
}

// checkLinked makes sure dst is src's inode; if not (it cannot be, short
// of a kernel that resolved the link otherwise), dst is removed.
func checkLinked(src *os.File, dst string) error {
	a, err := src.Stat()
	if err != nil {
		return err
	}
	b, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	if !os.SameFile(a, b) {
		os.Remove(dst)
		return fmt.Errorf("safeio link %s: %w", dst, ErrChanged)
	}
	return nil
}
