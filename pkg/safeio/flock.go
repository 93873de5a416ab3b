package safeio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// The errors of LockFile; the queue packages (sendmail, postfix, spool)
// export them under their own names.
var (
	// ErrLocked: another process (the MTA, another scanner) holds the
	// lock; try again later.
	ErrLocked = errors.New("file locked by another holder")
	// ErrGone: the file was removed or replaced while being locked.
	ErrGone = errors.New("file vanished while locking")
	// ErrNotRegular: a symbolic link or not a regular file, never
	// followed, never read (whoever can write the directory could point
	// it at any file qscan can read).
	ErrNotRegular = errors.New("not a regular file")
)

// LockFile opens path with flag (os.O_RDONLY or os.O_RDWR) without
// following a symbolic link, checks that it is a regular file and passes
// check (nil: none), and takes a non-blocking exclusive flock on it, the
// lock sendmail and Postfix take on Linux. It then checks that path still
// names the locked file: a holder we waited on may have removed or
// replaced it before letting go, and a lock on a dead inode protects
// nothing. Errors wrap ErrLocked, ErrGone, ErrNotRegular, check's error,
// or the open's (fs.ErrNotExist for a missing file).
func LockFile(path string, flag int, check func(fs.FileInfo) error) (*os.File, error) {
	fd, err := openFd(path, flag|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock %s: %w (a symbolic link)", path, ErrNotRegular)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The checks and the lock work on the bare descriptor; it becomes an
	// *os.File only when it is ours (see Open).
	fail := func(err error) (*os.File, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fail(ErrNotRegular)
	}
	f := os.NewFile(uintptr(fd), path)
	if check != nil {
		info, err := f.Stat()
		if err == nil {
			err = check(info)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var now unix.Stat_t
	if err := unix.Lstat(path, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ErrGone)
	}
	return f, nil
}

// StillNamed reports whether path (not followed) names the open file f.
func StillNamed(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Lstat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}
