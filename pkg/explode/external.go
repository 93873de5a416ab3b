package explode

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zip"
)

// SevenZip is the optional external unpacker for the archive formats the
// Go readers cannot open (ARJ, CAB, CHM, ISO and other disk images, XAR,
// zip members compressed with Deflate64 or Implode). 7-Zip is run with
// an argument vector, in a scratch directory holding only the archive
// under a generated name; it writes no file: the listing (-slt) gives
// every member's name, size and flags, which are checked against the
// limits before anything is extracted, and one extraction to standard
// output is cut into members by the listed sizes, checked as it is read.
// Member names are data, never paths.
type SevenZip struct {
	Path    string        // the 7z or 7zz binary; "" turns 7-Zip off
	Timeout time.Duration // one run of 7-Zip (default 30s)
	TempDir string        // where scratch directories are made (default os.TempDir())
}

const (
	defaultSevenZipTimeout = 30 * time.Second
	// maxListingEntryBytes bounds the listing per member: 7-Zip prints
	// about twenty "Key = Value" lines per member.
	maxListingEntryBytes = 8 << 10
	maxStderr            = 16 << 10
)

// errSevenZipOpen says 7-Zip could not open the archive at all.
var errSevenZipOpen = errors.New("explode 7-zip: cannot open the archive")

// foreignFormat names an archive that the Go readers do not open: the
// name shown in reports and 7-Zip's type for it ("" when 7-Zip cannot
// open it either). ok is false when data is no archive known here.
func foreignFormat(detected string, data []byte) (name, sevenType string, ok bool) {
	switch detected {
	case "application/vnd.ms-cab-compressed":
		return "cab", "cab", true
	case "application/x-xar":
		return "xar", "xar", true
	case "application/vnd.ms-htmlhelp":
		return "chm", "chm", true
	case "application/x-installshield":
		return "installshield", "", true
	}
	if bytes.HasPrefix(data, []byte("ITSF")) {
		return "chm", "chm", true
	}
	// ARJ: the main header's magic, then its size (at most 2600).
	if len(data) >= 4 && data[0] == 0x60 && data[1] == 0xea {
		if n := binary.LittleEndian.Uint16(data[2:]); n > 0 && n <= 2600 {
			return "arj", "arj", true
		}
	}
	if img, ok := sniffImage(data); ok {
		t := map[string]string{"iso9660": "iso", "udf": "udf", "vhd": "vhd", "vhdx": "vhdx", "dmg": "dmg", "fat image": "fat"}[img]
		return img, t, true
	}
	return "", "", false
}

// zipForeign says whether a zip holds a member compressed with a method
// the zip reader lacks (Deflate64, Implode, Shrink, PPMd ...), so that
// 7-Zip should read it instead.
func zipForeign(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		switch f.Method {
		case zip.Store, zip.Deflate, 12, 93, 95: // bzip2, zstd, xz: registered by the archive library
		default:
			return true
		}
	}
	return false
}

// sevenZipMember is one entry of 7-Zip's technical listing.
type sevenZipMember struct {
	name      string
	size      int64
	packed    int64 // -1 when not listed (solid blocks)
	crc       string
	dir, link bool
	encrypted bool
}

// parseSevenZipListing reads the output of `7z l -slt`: after the
// "----------" line, one block of "Key = Value" lines per member,
// blocks separated by blank lines. Anything else (a line without " = ",
// a key twice in a block: a member name with a line break in it) makes
// the listing unusable, since the cut of the extracted stream depends on
// it.
func parseSevenZipListing(out []byte) ([]sevenZipMember, error) {
	_, body, ok := bytes.Cut(out, []byte("\n----------\n"))
	if !ok {
		return nil, fmt.Errorf("7-zip listing: no member list: %w", errSevenZipOpen)
	}
	var members []sevenZipMember
	for _, block := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		m, err := parseSevenZipBlock(block)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, nil
}

func parseSevenZipBlock(block string) (sevenZipMember, error) {
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok && strings.HasSuffix(line, " =") {
			k, ok = strings.TrimSuffix(line, " ="), true
		}
		if !ok || k == "" {
			return sevenZipMember{}, fmt.Errorf("7-zip listing line %q: %w", trimForReport(line), errUnix)
		}
		if _, dup := kv[k]; dup {
			return sevenZipMember{}, fmt.Errorf("7-zip listing: %s twice in one entry: %w", k, errUnix)
		}
		kv[k] = v
	}
	name, ok := kv["Path"]
	if !ok {
		return sevenZipMember{}, fmt.Errorf("7-zip listing: entry without a path: %w", errUnix)
	}
	m := sevenZipMember{name: name, packed: -1, crc: kv["CRC"], encrypted: kv["Encrypted"] == "+"}
	attr, mode := strings.TrimSpace(kv["Attributes"]), strings.TrimSpace(kv["Mode"])
	m.dir = kv["Folder"] == "+" || strings.HasPrefix(attr, "D") || strings.HasPrefix(mode, "d") ||
		strings.Contains(attr, " d")
	m.link = kv["Symbolic Link"] != "" || strings.HasPrefix(mode, "l") || strings.HasPrefix(attr, "l") ||
		strings.Contains(attr, " l")
	if m.dir {
		return m, nil
	}
	var err error
	if m.size, err = parseSize(kv["Size"]); err != nil {
		return sevenZipMember{}, fmt.Errorf("7-zip listing: size of %q: %w", trimForReport(name), err)
	}
	if p, ok := kv["Packed Size"]; ok && p != "" {
		if m.packed, err = parseSize(p); err != nil {
			return sevenZipMember{}, fmt.Errorf("7-zip listing: packed size of %q: %w", trimForReport(name), err)
		}
	}
	return m, nil
}

func parseSize(s string) (int64, error) {
	var n int64
	if s == "" || len(s) > 18 {
		return 0, errUnix
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errUnix
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func trimForReport(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// sevenZip extracts archive c (of 7-Zip type typ) through 7-Zip.
func (x *exploder) sevenZip(c *container, typ string, data []byte) error {
	opt := x.lim.SevenZip
	scratch, err := os.MkdirTemp(opt.TempDir, "qscan-7z-")
	if err != nil {
		return fmt.Errorf("7-zip scratch directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	// The archive's own name never reaches the file system.
	if err := os.WriteFile(filepath.Join(scratch, "archive"), data, 0o600); err != nil {
		return fmt.Errorf("7-zip scratch file: %w", err)
	}
	most := int64(x.lim.MaxArchiveMembers+1)*maxListingEntryBytes + 64<<10
	listing, err := x.runSevenZip(scratch, most, "l", "-slt", "-t"+typ)
	if err != nil {
		return err
	}
	members, err := parseSevenZipListing(listing)
	if err != nil {
		return err
	}
	return x.sevenZipMembers(c, scratch, typ, members)
}

// sevenZipMembers checks the listed members against the limits, drawing
// their listed sizes from the budgets, then extracts them all in one
// stream and cuts it by those sizes (which the stream must match).
func (x *exploder) sevenZipMembers(c *container, scratch, typ string, members []sevenZipMember) error {
	var files []sevenZipMember
	var total int64
	encrypted, plain := false, false
	for _, m := range members {
		if m.dir {
			continue
		}
		if !x.countMember(c) {
			return errStop
		}
		files = append(files, m)
		if m.encrypted {
			encrypted = true
			continue
		}
		plain = plain || m.size > 0
		// Links count too: 7-Zip writes their target into the stream.
		limit, why := x.memberLimit(c, m.packed)
		if !x.takeMember(c, int(min(m.size, limit+1)), limit, why, m.name) {
			return errStop
		}
		total += m.size
	}
	if encrypted {
		// The stream of a partly encrypted archive cannot be cut safely.
		c.encrypted = true
		for _, m := range files {
			x.addMember(c, m.name, nil, m.encrypted, m.size)
		}
		if plain {
			return fmt.Errorf("7-zip: members that are not encrypted beside encrypted ones cannot be read apart")
		}
		return nil
	}
	datas, err := x.sevenZipExtract(scratch, typ, files, total)
	if err != nil {
		return err
	}
	for i, m := range files {
		if m.link {
			x.addMember(c, m.name, nil, false, 0)
			continue
		}
		x.addMember(c, m.name, datas[i], false, m.size)
	}
	return nil
}

// sevenZipExtract runs one extraction to standard output and cuts it into
// the members' data; the stream must be exactly total bytes long and each
// piece must match its listed CRC.
func (x *exploder) sevenZipExtract(scratch, typ string, files []sevenZipMember, total int64) ([][]byte, error) {
	out, err := x.runSevenZip(scratch, total, "e", "-so", "-t"+typ)
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != total {
		return nil, fmt.Errorf("7-zip extracted %d bytes, the listing says %d", len(out), total)
	}
	datas := make([][]byte, len(files))
	for i, m := range files {
		d := out[:m.size:m.size]
		out = out[m.size:]
		if m.crc != "" && !m.link && fmt.Sprintf("%08X", crc32.ChecksumIEEE(d)) != strings.ToUpper(m.crc) {
			return nil, fmt.Errorf("7-zip: member %q does not match its CRC", trimForReport(m.name))
		}
		datas[i] = d
	}
	return datas, nil
}

// runSevenZip runs 7-Zip on the scratch archive with the given command and
// switches, and returns its standard output, at most limit bytes: more
// stops 7-Zip and is an error, as are the time limit and a failure.
func (x *exploder) runSevenZip(scratch string, limit int64, cmd string, switches ...string) ([]byte, error) {
	opt := x.lim.SevenZip
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = defaultSevenZipTimeout
	}
	ctx, cancel := context.WithTimeout(x.ctx, timeout)
	defer cancel()
	// A password on the command line keeps 7-Zip from asking for one
	// (standard input is /dev/null too); qscan never knows the real one.
	args := append([]string{cmd, "-bd", "-y", "-sccUTF-8", "-pqscan-no-password"}, switches...)
	args = append(args, "--", "archive")
	c := exec.CommandContext(ctx, opt.Path, args...)
	c.Dir = scratch
	c.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "HOME=" + scratch, "TMPDIR=" + scratch}
	c.WaitDelay = time.Second
	stdout := &capBuffer{max: limit, over: cancel}
	stderr := &capBuffer{max: maxStderr}
	c.Stdout, c.Stderr = stdout, stderr
	err := c.Run()
	switch {
	case stdout.overflow:
		return nil, fmt.Errorf("7-zip %s: more output than the %d bytes expected", cmd, limit)
	case x.done():
		return nil, x.stopped
	case ctx.Err() != nil:
		return nil, fmt.Errorf("7-zip %s: stopped at the time limit of %v", cmd, timeout)
	case err != nil:
		var ee *exec.ExitError
		if cmd == "l" && errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: %s", errSevenZipOpen, lastLine(stderr.b.String()))
		}
		return nil, fmt.Errorf("7-zip %s: %w: %s", cmd, err, lastLine(stderr.b.String()))
	}
	return stdout.b.Bytes(), nil
}

// lastLine is the last non-empty line of 7-Zip's messages, for a report.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return trimForReport(strings.TrimSpace(lines[len(lines)-1]))
}

// capBuffer keeps at most max bytes; past that it calls over (which
// stops the process) and fails the write.
type capBuffer struct {
	b        bytes.Buffer
	max      int64
	over     func()
	overflow bool
}

func (w *capBuffer) Write(p []byte) (int, error) {
	if room := w.max - int64(w.b.Len()); int64(len(p)) > room {
		if w.over == nil { // standard error: keep the start, drop the rest
			w.b.Write(p[:max(room, 0)])
			return len(p), nil
		}
		w.overflow = true
		w.over()
		return 0, errors.New("explode 7-zip: output over its limit")
	}
	return w.b.Write(p)
}
