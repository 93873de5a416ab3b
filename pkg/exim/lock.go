package exim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked means another process (an Exim delivery, another scanner)
// holds the lock on the message's -D file; try it again later.
var ErrLocked = errors.New("exim: message locked by another process")

// ErrNoData means the -H has no -D; the caller should set it aside.
var ErrNoData = errors.New("exim: -D file missing")

// ErrGone means the message was removed or replaced while being locked.
var ErrGone = errors.New("exim: spool file vanished while locking")

// ErrNotRegular means a spool file is a symbolic link or not a regular
// file: never followed, never read.
var ErrNotRegular = errors.New("exim: spool file is not a regular file")

// ErrBadData means a -D file does not start with its own name line.
var ErrBadData = errors.New("exim: -D file does not start with <ID>-D")

// DataOffset is where the body starts in a -D file: after "<ID>-D\n".
// Exim locks the bytes before it (SPOOL_DATA_START_OFFSET).
const DataOffset = IDLen + 3

// DataPrefix returns the first line of id's -D file.
func DataPrefix(id string) []byte { return []byte(id + "-D\n") }

// Locked holds Exim's lock on a message: a write lock on the first line
// of the -D file, which is what Exim takes (fcntl F_SETLK) while a process
// owns the message, and the -H file opened after the lock was had (Exim
// replaces -H only under that lock). Read through H and D, not by opening
// the paths again: the lock belongs to D's open file.
type Locked struct {
	ID string
	H  *os.File
	D  *os.File
}

// Lock opens dPath read-write (never through a symbolic link) and takes a
// non-blocking write lock on its first DataOffset bytes, then opens
// hPath. The lock is an open-file-description lock (F_OFD_SETLK): on
// Linux it conflicts with Exim's fcntl record locks like one of its own,
// and unlike those it belongs to this open file, not to the process, so
// it is neither shared between goroutines nor dropped when another
// descriptor of the file is closed. If Exim holds the message it returns
// ErrLocked; a missing -D gives ErrNoData, a missing -H ErrGone.
func Lock(id, hPath, dPath string) (*Locked, error) {
	d, err := os.OpenFile(dPath, os.O_RDWR|os.O_APPEND|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("lock %s: %w (a symbolic link)", dPath, ErrNotRegular)
	case errors.Is(err, fs.ErrNotExist):
		if _, herr := os.Lstat(hPath); herr != nil {
			return nil, fmt.Errorf("lock %s: %w", dPath, ErrGone)
		}
		return nil, fmt.Errorf("lock %s: %w", dPath, ErrNoData)
	case err != nil:
		return nil, fmt.Errorf("lock %s: %w", dPath, err)
	}
	if st, err := d.Stat(); err != nil || !st.Mode().IsRegular() {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dPath, ErrNotRegular)
	}
	if err := lockData(d); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dPath, err)
	}
	// The holder we raced may have removed the message before letting go.
	if same, err := sameFile(d, dPath); err != nil || !same {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dPath, ErrGone)
	}
	h, err := os.OpenFile(hPath, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		d.Close()
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("lock %s: %w (a symbolic link)", hPath, ErrNotRegular)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", hPath, ErrGone)
		}
		return nil, fmt.Errorf("lock %s: %w", hPath, err)
	}
	if st, err := h.Stat(); err != nil || !st.Mode().IsRegular() {
		h.Close()
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", hPath, ErrNotRegular)
	}
	return &Locked{ID: id, H: h, D: d}, nil
}

// lockData takes the write lock Exim takes on a -D file, without waiting.
func lockData(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: DataOffset}
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		if err == unix.EINTR {
			continue
		}
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			return ErrLocked
		}
		return err
	}
}

func sameFile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// ReadH parses the locked -H file and checks that it names the message.
func (l *Locked) ReadH(lim Limits) (*H, error) {
	if _, err := l.H.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read -H %s: %w", l.ID, err)
	}
	h, err := ParseH(l.H, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.ID, err)
	}
	if h.ID() != l.ID {
		return nil, fmt.Errorf("%s: %w: the -H file names %s", l.ID, ErrFormat, h.ID())
	}
	return h, nil
}

// Body returns a reader of the message body in the locked -D file (the
// bytes after its name line), and checks that line.
func (l *Locked) Body() (*io.SectionReader, error) {
	return Body(l.D, l.ID)
}

// Body returns a reader of the body of -D file f of message id.
func Body(f *os.File, id string) (*io.SectionReader, error) {
	want := DataPrefix(id)
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		return nil, fmt.Errorf("read -D %s: %w", id, ErrBadData)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read -D %s: %w", id, err)
	}
	return io.NewSectionReader(f, DataOffset, st.Size()-DataOffset), nil
}

// Unlock releases the lock and closes both files.
func (l *Locked) Unlock() error {
	return errors.Join(l.H.Close(), l.D.Close())
}
