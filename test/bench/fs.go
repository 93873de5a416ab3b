package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// fsWarning returns a warning when dir is on an ext4 filesystem without a
// journal, "" otherwise. There, ext4 does not hand out an inode freed in
// the last minute (recently_deleted() in find_inode_bit), and each file
// created steps over all of them: the queues' create-and-delete churn
// makes every create slower as a run goes on (0.25 ms of kernel CPU per
// file after a few thousand, against 35 µs with a journal, on the machine
// of test/RESULTS.md), which both qscan and clamd's scratch files pay.
func fsWarning(dir string) string {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return ""
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	fstype, source := mountOf(f, unix.Major(st.Dev), unix.Minor(st.Dev))
	if fstype != "ext4" {
		return ""
	}
	dev := filepath.Base(source)
	if j, _ := filepath.Glob(filepath.Join("/proc/fs/jbd2", dev+"-*")); len(j) > 0 {
		return ""
	}
	return fmt.Sprintf("%s is on %s, ext4 without a journal: file creation slows down as deleted inodes pile up, so the runs drift; point TMPDIR (and QSCAN_STACK for clamd's scratch files) at a journaled filesystem", dir, source)
}

// mountOf finds the filesystem type and source of the mount with device
// major:minor in a /proc/self/mountinfo listing.
func mountOf(r io.Reader, major, minor uint32) (fstype, source string) {
	want := fmt.Sprintf("%d:%d", major, minor)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 3 || len(tail) < 2 || fields[2] != want {
			continue
		}
		return tail[0], tail[1]
	}
	return "", ""
}
