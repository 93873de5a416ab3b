package explode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf16"

	"github.com/qscan/qscan/pkg/message"
)

// Microsoft documents (OLE2 compound files: .doc, .xls, .ppt, and the
// oleObject*.bin inside .docx) carry embedded files as "\x01Ole10Native"
// streams: a packager object holding a file name, a label and the file.
// MailScanner's "Unpack Microsoft Documents" takes them out; so does
// this, within the part's own bytes (nothing is allocated beyond them).

var cfbMagic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// ErrOLE is wrapped by every compound-file error.
var ErrOLE = errors.New("explode: bad OLE2 compound file")

const (
	cfbFree       = 0xffffffff
	cfbEndOfChain = 0xfffffffe
	ole10Native   = "\x01Ole10Native"
)

// isCFB says whether data is an OLE2 compound file.
func isCFB(data []byte) bool { return len(data) >= 512 && bytes.HasPrefix(data, cfbMagic) }

// cfb is a compound file being read.
type cfb struct {
	data       []byte
	sector     int // sector size
	fat        []uint32
	miniFAT    []uint32
	miniStream []byte
	cutoff     uint32
}

// oleNative returns the files of the Ole10Native streams of a compound
// file, at most max of them.
func oleNative(data []byte, max int) ([]embedded, error) {
	c, err := openCFB(data)
	if err != nil {
		return nil, err
	}
	dir, err := c.chain(c.fat, binary.LittleEndian.Uint32(data[0x30:]), c.sector, data, len(data))
	if err != nil {
		return nil, fmt.Errorf("cfb directory: %w", err)
	}
	var out []embedded
	for off := 0; off+128 <= len(dir) && len(out) < max; off += 128 {
		e := dir[off : off+128]
		typ := e[66]
		start, size := binary.LittleEndian.Uint32(e[116:]), binary.LittleEndian.Uint32(e[120:])
		if typ == 5 && off == 0 { // the root entry holds the mini stream
			if ms, err := c.chain(c.fat, start, c.sector, data, int(size)); err == nil {
				c.miniStream = ms
			}
			continue
		}
		if typ != 2 || entryName(e) != ole10Native {
			continue
		}
		var s []byte
		if size < c.cutoff {
			s, err = c.chain(c.miniFAT, start, 64, c.miniStream, int(size))
		} else {
			s, err = c.chain(c.fat, start, c.sector, data, int(size))
		}
		if err != nil {
			return out, fmt.Errorf("cfb stream: %w", err)
		}
		out = append(out, parseOle10Native(s))
	}
	return out, nil
}

func openCFB(data []byte) (*cfb, error) {
	if !isCFB(data) {
		return nil, fmt.Errorf("cfb signature: %w", ErrOLE)
	}
	shift := binary.LittleEndian.Uint16(data[0x1e:])
	if shift != 9 && shift != 12 {
		return nil, fmt.Errorf("cfb sector shift %d: %w", shift, ErrOLE)
	}
	c := &cfb{data: data, sector: 1 << shift, cutoff: binary.LittleEndian.Uint32(data[0x38:])}
	if c.cutoff == 0 || c.cutoff > 1<<20 {
		c.cutoff = 4096
	}
	// The FAT sectors: the first 109 in the header, the others in the
	// DIFAT chain; no more than the file has sectors.
	nsect := len(data)/c.sector - 1
	var fatSectors []uint32
	for i := 0; i < 109; i++ {
		if s := binary.LittleEndian.Uint32(data[0x4c+4*i:]); s < cfbEndOfChain {
			fatSectors = append(fatSectors, s)
		}
	}
	for s, n := binary.LittleEndian.Uint32(data[0x44:]), 0; s < cfbEndOfChain && n < nsect; n++ {
		sec, ok := c.sectorAt(s)
		if !ok {
			break
		}
		for i := 0; i+4 < len(sec); i += 4 {
			if v := binary.LittleEndian.Uint32(sec[i:]); v < cfbEndOfChain {
				fatSectors = append(fatSectors, v)
			}
		}
		s = binary.LittleEndian.Uint32(sec[len(sec)-4:])
	}
	for i, s := range fatSectors {
		if i > nsect {
			break
		}
		sec, ok := c.sectorAt(s)
		if !ok {
			return nil, fmt.Errorf("cfb FAT sector %d: %w", s, ErrOLE)
		}
		for j := 0; j+4 <= len(sec); j += 4 {
			c.fat = append(c.fat, binary.LittleEndian.Uint32(sec[j:]))
		}
	}
	if mf := binary.LittleEndian.Uint32(data[0x3c:]); mf < cfbEndOfChain {
		if b, err := c.chain(c.fat, mf, c.sector, data, len(data)); err == nil {
			for j := 0; j+4 <= len(b); j += 4 {
				c.miniFAT = append(c.miniFAT, binary.LittleEndian.Uint32(b[j:]))
			}
		}
	}
	return c, nil
}

// sectorAt returns regular sector s.
func (c *cfb) sectorAt(s uint32) ([]byte, bool) {
	off := (int64(s) + 1) * int64(c.sector)
	if s >= cfbEndOfChain || off+int64(c.sector) > int64(len(c.data)) {
		return nil, false
	}
	return c.data[off : off+int64(c.sector)], true
}

// chain reads up to size bytes of the chain starting at start through
// table, in units of unit bytes of src. A chain longer than src has
// units (a loop) or leaving src is an error.
func (c *cfb) chain(table []uint32, start uint32, unit int, src []byte, size int) ([]byte, error) {
	var out []byte
	limit, skip := len(src)/unit, 0
	if len(src) == len(c.data) && unit == c.sector {
		skip = c.sector // regular sectors follow the header
	}
	for s, n := start, 0; s < cfbEndOfChain && len(out) < size; n++ {
		if n > limit {
			return nil, fmt.Errorf("chain loops: %w", ErrOLE)
		}
		off := int(s)*unit + skip
		if s == cfbFree || off < 0 || off+unit > len(src) || int(s) >= len(table) {
			return nil, fmt.Errorf("chain leaves the file at sector %d: %w", s, ErrOLE)
		}
		out = append(out, src[off:off+unit]...)
		s = table[s]
	}
	if len(out) > size {
		out = out[:size]
	}
	return out, nil
}

// entryName is a directory entry's name (UTF-16LE, length in bytes with
// the terminating NUL).
func entryName(e []byte) string {
	n := int(binary.LittleEndian.Uint16(e[64:]))
	if n < 2 || n > 64 {
		return ""
	}
	u := make([]uint16, 0, n/2-1)
	for i := 0; i+1 < n-2; i += 2 {
		u = append(u, binary.LittleEndian.Uint16(e[i:]))
	}
	return string(utf16.Decode(u))
}

// parseOle10Native reads a packager object: size, type, label, path,
// reserved, temporary path, data. A stream that does not follow that
// layout is taken whole, unnamed: it is scanned all the same.
func parseOle10Native(s []byte) embedded {
	whole := embedded{Label: "Ole10Native", Data: s}
	if len(s) < 6 {
		return whole
	}
	r := s[6:]
	cstr := func() (string, bool) {
		i := bytes.IndexByte(r, 0)
		if i < 0 {
			return "", false
		}
		v := string(r[:i])
		r = r[i+1:]
		return v, true
	}
	label, ok1 := cstr()
	orig, ok2 := cstr()
	if !ok1 || !ok2 || len(r) < 8 {
		return whole
	}
	r = r[4:]
	n := binary.LittleEndian.Uint32(r)
	r = r[4:]
	if uint64(n)+4 > uint64(len(r)) {
		return whole
	}
	temp := string(bytes.TrimRight(r[:n], "\x00"))
	r = r[n:]
	size := binary.LittleEndian.Uint32(r)
	r = r[4:]
	if uint64(size) > uint64(len(r)) {
		return whole
	}
	f := embedded{Name: label, Data: r[:size]}
	for _, p := range []string{orig, temp} {
		if b := baseName(p); b != "" && b != f.Name && (len(f.Alt) == 0 || f.Alt[0] != b) {
			f.Alt = append(f.Alt, b)
		}
	}
	if f.Name == "" && len(f.Alt) > 0 {
		f.Name, f.Alt = f.Alt[0], f.Alt[1:]
	}
	return f
}

// baseName is the last element of a Windows or Unix path.
func baseName(p string) string {
	p = strings.TrimSpace(strings.ReplaceAll(p, `\`, "/"))
	if p == "" {
		return ""
	}
	return path.Base(p)
}

// ole takes out the files embedded in a Microsoft document, under the
// expansion budget (they are slices of the document, yet each is scanned
// on its own).
func (x *exploder) ole(idx int) {
	data := x.res.Parts[idx].Data
	if !x.lim.UnpackOLE || !isCFB(data) {
		return
	}
	files, err := oleNative(data, x.lim.MaxArchiveMembers)
	if err != nil {
		x.report(message.KindContent, idx, "ole-unreadable", "unreadable OLE2 document: "+err.Error(), message.ActionNone)
	}
	for i, f := range files {
		if room, limit := x.room(); int64(len(f.Data)) > room {
			x.overLimit(idx, "unpacking a Microsoft document", room, limit)
			files = files[:i]
			break
		}
		x.spend(len(f.Data))
	}
	x.children(idx, files)
}
