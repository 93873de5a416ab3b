package explode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Readers for the Unix archive formats the archive library does not read:
// cpio (newc, crc, odc and old binary), ar (and so .deb) and the cpio
// payload of an rpm. Each walks a byte slice it already holds and hands
// each member to a callback; every length is checked against the bytes
// that remain, so a lying header costs nothing.

// errUnix is wrapped by every malformed-archive error of these readers.
var errUnix = errors.New("explode: malformed archive")

// unixMember receives one member; data is nil for a link or a device.
type unixMember func(name string, data []byte) error

// unixReaderFor returns the reader for a detected type, or nil.
func unixReaderFor(detected string, data []byte) func([]byte, unixMember) error {
	if len(data) >= 26 && data[0] == 0x71 && data[1] == 0xc7 {
		return readCpio // old binary cpio, big-endian: the type detection misses it
	}
	switch detected {
	case "application/x-cpio":
		return readCpio
	case "application/x-archive", "application/x-unix-archive", "application/vnd.debian.binary-package":
		return readAr
	case "application/x-rpm":
		return readRpm
	}
	return nil
}

// readCpio walks a cpio archive up to its TRAILER!!! entry.
func readCpio(b []byte, each unixMember) error {
	for len(b) > 0 {
		var h cpioHeader
		var err error
		switch {
		case bytes.HasPrefix(b, []byte("070701")), bytes.HasPrefix(b, []byte("070702")):
			h, err = cpioNewc(b)
		case bytes.HasPrefix(b, []byte("070707")):
			h, err = cpioOdc(b)
		case len(b) >= 26 && (binary.LittleEndian.Uint16(b) == 0o70707 || binary.BigEndian.Uint16(b) == 0o70707):
			h = cpioBinary(b)
		default:
			return fmt.Errorf("cpio header: %w", errUnix)
		}
		if err != nil {
			return err
		}
		if h.nameEnd > len(b) || h.dataStart > len(b) || h.size > uint64(len(b)-h.dataStart) {
			return fmt.Errorf("cpio entry lengths: %w", errUnix)
		}
		name := string(bytes.TrimRight(b[h.hdr:h.nameEnd], "\x00"))
		if name == "TRAILER!!!" {
			return nil
		}
		data := b[h.dataStart : h.dataStart+int(h.size)]
		next := min(len(b), h.dataStart+int(h.size)+h.pad(h.dataStart+int(h.size)))
		switch h.mode & 0o170000 {
		case 0o100000, 0: // regular file (old archives leave the type out)
			err = each(name, data)
		case 0o040000: // directory
		default: // links, devices: recorded, nothing to read
			err = each(name, nil)
		}
		if err != nil {
			return err
		}
		b = b[next:]
	}
	return nil
}

// cpioHeader is one entry's layout: offsets from the entry's start.
type cpioHeader struct {
	hdr, nameEnd, dataStart int
	size                    uint64
	mode                    uint64
	align                   int // data is padded to this multiple
}

func (h cpioHeader) pad(n int) int {
	if h.align <= 1 {
		return 0
	}
	return (h.align - n%h.align) % h.align
}

// cpioNewc reads the SVR4 header: 13 eight-digit hex fields, name and data
// padded to 4 bytes.
func cpioNewc(b []byte) (cpioHeader, error) {
	if len(b) < 110 {
		return cpioHeader{}, fmt.Errorf("cpio newc header: %w", errUnix)
	}
	f := func(i int) (uint64, error) { return strconv.ParseUint(string(b[6+8*i:14+8*i]), 16, 32) }
	mode, e1 := f(1)
	size, e2 := f(6)
	nsize, e3 := f(11)
	if err := errors.Join(e1, e2, e3); err != nil {
		return cpioHeader{}, fmt.Errorf("cpio newc header: %w", errUnix)
	}
	h := cpioHeader{hdr: 110, nameEnd: 110 + int(nsize), size: size, mode: mode, align: 4}
	h.dataStart = h.nameEnd + h.pad(h.nameEnd)
	return h, nil
}

// cpioOdc reads the POSIX.1 portable header: octal fields, no padding.
func cpioOdc(b []byte) (cpioHeader, error) {
	if len(b) < 76 {
		return cpioHeader{}, fmt.Errorf("cpio odc header: %w", errUnix)
	}
	f := func(off, n int) (uint64, error) { return strconv.ParseUint(string(b[off:off+n]), 8, 40) }
	mode, e1 := f(18, 6)
	nsize, e2 := f(59, 6)
	size, e3 := f(65, 11)
	if err := errors.Join(e1, e2, e3); err != nil || nsize > 1<<20 {
		return cpioHeader{}, fmt.Errorf("cpio odc header: %w", errUnix)
	}
	h := cpioHeader{hdr: 76, nameEnd: 76 + int(nsize), size: size, mode: mode, align: 1}
	h.dataStart = h.nameEnd
	return h, nil
}

// cpioBinary reads the old binary header (either byte order): name and
// data padded to 2 bytes.
func cpioBinary(b []byte) cpioHeader {
	var order binary.ByteOrder = binary.LittleEndian
	if binary.LittleEndian.Uint16(b) != 0o70707 {
		order = binary.BigEndian
	}
	u := func(i int) uint64 { return uint64(order.Uint16(b[2*i:])) }
	h := cpioHeader{hdr: 26, nameEnd: 26 + int(u(10)), size: u(11)<<16 | u(12), mode: u(3), align: 2}
	h.dataStart = h.nameEnd + h.pad(h.nameEnd)
	return h
}

// readAr walks an ar archive (GNU and BSD long names).
func readAr(b []byte, each unixMember) error {
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		return fmt.Errorf("ar signature: %w", errUnix)
	}
	b = b[8:]
	var names []byte // the GNU "//" long-name table
	for len(b) >= 60 {
		h := b[:60]
		size, err := strconv.ParseUint(strings.TrimSpace(string(h[48:58])), 10, 40)
		if err != nil || size > uint64(len(b)-60) {
			return fmt.Errorf("ar member size: %w", errUnix)
		}
		data := b[60 : 60+size]
		b = b[min(uint64(len(b)), 60+size+size%2):]
		name := strings.TrimRight(string(h[:16]), " ")
		switch {
		case name == "//":
			names = data
			continue
		case name == "/" || name == "/SYM64/" || name == "__.SYMDEF" || name == "__.SYMDEF SORTED":
			continue // symbol tables
		case strings.HasPrefix(name, "#1/"): // BSD: the name leads the data
			n, err := strconv.Atoi(name[3:])
			if err != nil || n < 0 || n > len(data) {
				return fmt.Errorf("ar BSD name: %w", errUnix)
			}
			name, data = string(bytes.TrimRight(data[:n], "\x00")), data[n:]
		case strings.HasPrefix(name, "/"): // GNU: an offset into the table
			off, err := strconv.Atoi(name[1:])
			if err != nil || off < 0 || off > len(names) {
				return fmt.Errorf("ar GNU name: %w", errUnix)
			}
			name = string(names[off:])
			if i := strings.IndexAny(name, "/\n"); i >= 0 {
				name = name[:i]
			}
		default:
			name = strings.TrimSuffix(name, "/")
		}
		if err := each(name, data); err != nil {
			return err
		}
	}
	return nil
}

// readRpm skips an rpm's lead and headers and hands on its payload, a
// compressed cpio archive, as one member (which is then opened in turn).
func readRpm(b []byte, each unixMember) error {
	const lead = 96
	if len(b) < lead {
		return fmt.Errorf("rpm lead: %w", errUnix)
	}
	off := lead
	for i := range 2 { // the signature header, then the main header
		if len(b)-off < 16 || !bytes.HasPrefix(b[off:], []byte{0x8e, 0xad, 0xe8, 0x01}) {
			return fmt.Errorf("rpm header: %w", errUnix)
		}
		n := uint64(binary.BigEndian.Uint32(b[off+8:]))*16 + uint64(binary.BigEndian.Uint32(b[off+12:]))
		if n > uint64(len(b)-off-16) {
			return fmt.Errorf("rpm header length: %w", errUnix)
		}
		off += 16 + int(n)
		if i == 0 {
			off += (8 - off%8) % 8 // the signature is padded to 8 bytes
		}
	}
	return each("payload", b[min(off, len(b)):])
}
