package safeio

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens path like os.OpenFile (O_CLOEXEC added) but makes the *os.File
// with os.NewFile. On Linux os.OpenFile tries to put every file in the
// network poller: for a regular file that is four fcntl calls and a
// failing epoll_ctl on each open, a quarter of the system calls a spooled
// message costs. Queue and spool files are regular files, never polled.
// Read the descriptor through SyscallConn, not Fd, which costs two more
// fcntl calls.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := openFd(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

func openFd(path string, flag int, perm os.FileMode) (int, error) {
	for {
		fd, err := unix.Open(path, flag|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// fdOf runs fn with f's descriptor without switching it to blocking mode
// (as Fd does, at two fcntl calls).
func fdOf(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
