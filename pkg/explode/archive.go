package explode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/bodgit/sevenzip"
	"github.com/klauspost/compress/zip"
	"github.com/klauspost/compress/zstd"
	"github.com/mholt/archives"
	"github.com/nwaples/rardecode/v2"

	"github.com/qscan/qscan/pkg/message"
)

// errStop ends an extraction early; the reason has been reported already.
var errStop = errors.New("explode: stop extraction")

// extractors by detected MIME type. Office documents, ODF, EPUB and APK are
// zip files too, but they are documents: they are recorded, not exploded.
func extractorFor(detected string, data []byte) archives.Extractor {
	switch detected {
	case "application/zip", "application/x-zip-compressed", "application/jar", "application/java-archive",
		"application/vnd.android.package-archive", "application/x-chrome-extension":
		return archives.Zip{}
	case "application/x-7z-compressed":
		return archives.SevenZip{}
	case "application/vnd.rar", "application/x-rar-compressed":
		return archives.Rar{}
	case "application/x-tar":
		return archives.Tar{}
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) && !isDocument(detected) {
		return archives.Zip{} // any other zip flavour is still a zip
	}
	if !isDocument(detected) && zipTrailer(data) {
		// Self-extracting programs, and a zip behind junk bytes: zip
		// readers (unzip, 7-Zip, Windows) find the central directory at
		// the end and open them.
		return archives.Zip{}
	}
	return nil
}

// zipTrailer says whether data ends with a zip central directory that
// opens, whatever comes before it.
func zipTrailer(data []byte) bool {
	const eocd = "PK\x05\x06"
	tail := data[max(0, len(data)-(65535+22)):]
	if !bytes.Contains(tail, []byte(eocd)) {
		return false
	}
	_, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	return err == nil
}

// decompressorFor returns the single-stream decompressor for a type.
func decompressorFor(detected string, data []byte, lim Limits) archives.Decompressor {
	switch detected {
	case "application/gzip", "application/x-gzip":
		return archives.Gz{}
	case "application/x-bzip2":
		return archives.Bz2{}
	case "application/x-xz":
		return archives.Xz{}
	case "application/x-lzip", "application/lzip":
		return archives.Lzip{}
	case "application/zstd":
		return archives.Zstd{DecoderOptions: []zstd.DOption{
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(lim.MaxPartBytes)),
		}}
	}
	if bytes.HasPrefix(data, []byte{0x04, 0x22, 0x4d, 0x18}) {
		return archives.Lz4{}
	}
	return nil
}

// sniffImage recognises the disk images Windows mounts (ISO 9660, UDF,
// VHD, VHDX, FAT floppy images) and macOS ones (DMG), which the type
// detection does not know.
func sniffImage(data []byte) (string, bool) {
	at := func(off int, s string) bool {
		return off >= 0 && len(data) >= off+len(s) && string(data[off:off+len(s)]) == s
	}
	switch {
	case at(0x8001, "CD001"), at(0x8801, "CD001"), at(0x9001, "CD001"):
		return "iso9660", true
	case at(0x8001, "BEA01"), at(0x8001, "NSR02"), at(0x8001, "NSR03"):
		return "udf", true
	case at(0, "vhdxfile"):
		return "vhdx", true
	case at(0, "conectix"), at(len(data)-512, "conectix"):
		return "vhd", true
	case at(len(data)-512, "koly"):
		return "dmg", true
	case at(510, "\x55\xaa") && (at(0x36, "FAT1") || at(0x52, "FAT32")):
		return "fat image", true
	}
	return "", false
}

// container is one archive being extracted, with its budgets.
type container struct {
	idx       int   // part index of the archive
	depth     int   // archive depth of its members
	allowance int64 // bytes this archive may still expand to (ratio)
	members   int
	encrypted bool
}

// archive explodes part idx if it is an archive or a compressed file.
func (x *exploder) archive(idx int) {
	p := x.res.Parts[idx]
	ex := extractorFor(p.DetectedType, p.Data)
	dec := decompressorFor(p.DetectedType, p.Data, x.lim)
	own := unixReaderFor(p.DetectedType, p.Data)
	seven := ""
	if _, zip := ex.(archives.Zip); zip && x.lim.SevenZip.Path != "" && zipForeign(p.Data) {
		ex, seven = nil, "zip" // Deflate64, Implode ...: 7-Zip reads them
	}
	if ex == nil && dec == nil && own == nil && seven == "" {
		name, typ, ok := foreignFormat(p.DetectedType, p.Data)
		switch {
		case !ok:
			return
		case typ == "" || x.lim.SevenZip.Path == "":
			x.unopened(idx, name, "")
			return
		}
		seven = typ
	}
	x.res.Parts[idx].Archive = true
	if x.stopArchives {
		// Not opened, so not checked: taken out like the bomb before it.
		x.report(message.KindContent, idx, "archive-expand",
			TextArchiveExpand+": not opened after an earlier archive hit the expansion limits", message.ActionReplace)
		return
	}
	if p.Depth+1 > x.lim.MaxArchiveDepth {
		x.report(message.KindContent, idx, "archive-depth",
			fmt.Sprintf("%s: more than %d levels", TextArchiveDepth, x.lim.MaxArchiveDepth), message.ActionReplace)
		return
	}
	c := &container{idx: idx, depth: p.Depth + 1,
		allowance: max(x.lim.RatioMinBytes, x.lim.MaxRatio*int64(len(p.Data)))}
	x.res.Stats.ArchiveDepth = max(x.res.Stats.ArchiveDepth, c.depth)
	var err error
	switch {
	case ex != nil:
		err = ex.Extract(x.ctx, bytes.NewReader(p.Data), func(_ context.Context, f archives.FileInfo) error {
			return x.member(c, f)
		})
	case own != nil:
		err = own(p.Data, func(name string, data []byte) error { return x.rawMember(c, name, data) })
	case seven != "":
		err = x.sevenZip(c, seven, p.Data)
	default:
		err = x.decompress(c, dec, p)
	}
	switch {
	case err == nil || errors.Is(err, errStop):
	case x.done():
		return // the caller gave up: not a verdict on the archive
	case isPasswordError(err):
		c.encrypted = true
	case errors.Is(err, errSevenZipOpen):
		name, _, _ := foreignFormat(p.DetectedType, p.Data)
		if name == "" {
			name = seven
		}
		x.unopened(idx, name, err.Error())
	default:
		x.report(message.KindContent, idx, "archive-unreadable",
			fmt.Sprintf("%s: %v", TextUnreadable, err), message.ActionReplace)
	}
	if c.encrypted {
		x.res.Parts[idx].Encrypted = true
		act := message.ActionReplace
		if x.lim.AllowPasswordArchives {
			act = message.ActionNone
		}
		x.report(message.KindContent, idx, "archive-password", TextPassword, act)
	}
}

// unopened reports part idx, a container of format name that qscan
// cannot open (why says what 7-Zip said, if it was asked). A mail
// client's user opens it with a double click, so it is taken out unless
// Limits.AllowUnopenedArchives says otherwise.
func (x *exploder) unopened(idx int, name, why string) {
	x.res.Parts[idx].Archive = true
	act := message.ActionReplace
	if x.lim.AllowUnopenedArchives {
		act = message.ActionNone
	}
	text := TextUnsupported + ": " + name
	if why != "" {
		text += " (" + why + ")"
	}
	x.report(message.KindContent, idx, "archive-unsupported", text, act)
}

// rawMember handles a member of an archive read by the readers of
// unix.go: data is a slice of the archive (nil for a link), counted
// against the budgets like an extracted member, never copied.
func (x *exploder) rawMember(c *container, name string, data []byte) error {
	if x.done() {
		return x.stopped
	}
	if !x.countMember(c) {
		return errStop
	}
	if data == nil {
		x.addMember(c, name, nil, false, 0)
		return nil
	}
	limit, why := x.memberLimit(c, int64(len(data)))
	if !x.takeMember(c, len(data), limit, why, name) {
		return errStop
	}
	x.addMember(c, name, data[:len(data):len(data)], false, int64(len(data)))
	return nil
}

// countMember counts one more member of c against the per-archive limit
// and the message's limit on parts (archives in archives multiply their
// members: 100 zips of 1,000 members each are 100,000 parts). Over
// either, the archive is reported and not read further.
func (x *exploder) countMember(c *container) bool {
	c.members++
	switch {
	case c.members > x.lim.MaxArchiveMembers:
		x.report(message.KindContent, c.idx, "archive-members",
			fmt.Sprintf("%s: more than %d", TextArchiveMembers, x.lim.MaxArchiveMembers), message.ActionReplace)
		return false
	case len(x.res.Parts) >= x.lim.MaxParts:
		x.report(message.KindContent, c.idx, "parts",
			fmt.Sprintf("%s: more than %d", TextParts, x.lim.MaxParts), message.ActionReplace)
		return false
	}
	return true
}

// isPasswordError recognises the "encrypted" errors of the 7z and RAR
// readers; zip encryption is seen in the member flags instead.
func isPasswordError(err error) bool {
	if errors.Is(err, errNoPassword) || errors.Is(err, rardecode.ErrArchiveEncrypted) || errors.Is(err, rardecode.ErrArchivedFileEncrypted) ||
		errors.Is(err, rardecode.ErrBadPassword) {
		return true
	}
	var re7 *sevenzip.ReadError
	if errors.As(err, &re7) && re7.Encrypted {
		return true // the reader decrypted with no password and got garbage
	}
	s := err.Error()
	return strings.Contains(s, "aes7z") || strings.Contains(s, "password")
}

// member handles one archive entry.
func (x *exploder) member(c *container, f archives.FileInfo) error {
	if x.done() {
		return x.stopped
	}
	if f.IsDir() {
		return nil
	}
	if !x.countMember(c) {
		return errStop
	}
	name := f.NameInArchive
	compressed := int64(-1)
	if h, ok := f.Header.(zip.FileHeader); ok {
		compressed = int64(h.CompressedSize64)
		if h.Flags&1 != 0 {
			c.encrypted = true
			x.addMember(c, name, nil, true, f.Size())
			return nil
		}
	}
	if f.LinkTarget != "" || f.Mode()&fs.ModeSymlink != 0 {
		x.addMember(c, name, nil, false, 0)
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open member %q: %w", name, err)
	}
	defer rc.Close()
	data, err := x.readBounded(c, rc, compressed, name)
	if err != nil {
		return err
	}
	x.addMember(c, name, data, false, int64(len(data)))
	return nil
}

// decompress handles a single compressed stream (gz, bz2, xz, ...): its one
// member is named after the file without its compression suffix.
func (x *exploder) decompress(c *container, dec archives.Decompressor, p message.Part) error {
	rc, err := dec.OpenReader(bytes.NewReader(p.Data))
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer rc.Close()
	name := strings.TrimSuffix(path.Base(p.Filename), path.Ext(p.Filename))
	if name == "" || name == "." {
		name = "data"
	}
	c.members++
	data, err := x.readBounded(c, rc, int64(len(p.Data)), name)
	if err != nil {
		return err
	}
	if detect(data) == "application/x-tar" {
		// .tar.gz is one archive level, as users see it, not two.
		c.depth--
	}
	x.addMember(c, name, data, false, int64(len(data)))
	return nil
}

// readBounded reads one member through a LimitReader sized by the
// remaining budgets, so that a bomb costs at most one budget's worth of
// work and memory. compressed is the member's stored size, -1 if unknown.
func (x *exploder) readBounded(c *container, r io.Reader, compressed int64, name string) ([]byte, error) {
	limit, why := x.memberLimit(c, compressed)
	data, err := io.ReadAll(io.LimitReader(ctxReader{x, r}, max(limit, 0)+1))
	if !x.takeMember(c, len(data), limit, why, name) {
		return nil, errStop
	}
	if err != nil {
		return nil, fmt.Errorf("read member %q: %w", name, err)
	}
	return data, nil
}

// ctxReader stops a decompression stream when the exploder's context
// ends: one member may take the whole budget's worth of work.
type ctxReader struct {
	x *exploder
	r io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if c.x.done() {
		return 0, c.x.stopped
	}
	return c.r.Read(b)
}

// memberLimit returns how many bytes the next member of c may have, and
// the limit that sets it.
func (x *exploder) memberLimit(c *container, compressed int64) (int64, string) {
	limit, why := x.room()
	if c.allowance < limit {
		limit, why = c.allowance, "expansion ratio of the archive"
	}
	if compressed >= 0 {
		if r := max(x.lim.RatioMinBytes, x.lim.MaxRatio*compressed); r < limit {
			limit, why = r, "expansion ratio of the member"
		}
	}
	return limit, why
}

// takeMember draws n bytes of a member from the budgets; false (reported)
// when n is over limit.
func (x *exploder) takeMember(c *container, n int, limit int64, why, name string) bool {
	x.spend(n)
	c.allowance -= int64(n)
	if int64(n) > limit {
		// One bomb is enough: stop every further extraction in this
		// message, or the siblings of a recursive bomb eat the budget.
		x.stopArchives = true
		x.report(message.KindContent, c.idx, "archive-expand",
			fmt.Sprintf("%s: %s exceeds the %s limit", TextArchiveExpand, name, why), message.ActionReplace)
		return false
	}
	return true
}

// addMember appends an archive member and looks into it.
func (x *exploder) addMember(c *container, name string, data []byte, encrypted bool, size int64) {
	parent := x.res.Parts[c.idx]
	shown := name
	if shown == "" {
		shown = fmt.Sprintf("member-%d", c.members)
	}
	idx := x.addPart(message.Part{
		Parent:       c.idx,
		Path:         parent.Path + "/" + shown,
		MIMEPath:     parent.MIMEPath,
		Filename:     name,
		DetectedType: detectIf(data),
		Size:         size,
		Depth:        c.depth,
		Encrypted:    encrypted,
		Data:         data,
	})
	if data != nil {
		x.inspect(idx)
	}
}

func detectIf(data []byte) string {
	if data == nil {
		return ""
	}
	return detect(data)
}
