package main

import (
	"strings"
	"testing"
)

func TestMountOf(t *testing.T) {
	const mountinfo = `21 26 0:20 / /proc rw,relatime - proc proc rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k
90 26 7:0 / /mnt/bench\040fs rw,relatime shared:1 - ext4 /dev/loop0 rw
`
	for _, c := range []struct {
		major, minor uint32
		fstype, src  string
	}{
		{254, 0, "ext4", "/dev/vda"},
		{7, 0, "ext4", "/dev/loop0"}, // optional fields before the separator
		{0, 22, "tmpfs", "tmpfs"},
		{8, 1, "", ""},
	} {
		fstype, src := mountOf(strings.NewReader(mountinfo), c.major, c.minor)
		if fstype != c.fstype || src != c.src {
			t.Errorf("mountOf(%d:%d) = %q, %q; want %q, %q", c.major, c.minor, fstype, src, c.fstype, c.src)
		}
	}
}
