package explode

import (
	"bytes"
	"cmp"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zip"

	"github.com/qscan/qscan/pkg/message"
)

// maxEmbedded caps the uuencoded files taken from one text part.
const maxEmbedded = 100

// inspect looks inside part idx: files hidden in text, TNEF, documents
// with macros, archives.
func (x *exploder) inspect(idx int) {
	if x.done() {
		return
	}
	p := x.res.Parts[idx]
	if isMessage(p) {
		x.embeddedMessage(idx)
		return
	}
	if isText(p) {
		// In a MIME part, an archive member or a decoded file alike:
		// an unpacker's user opens the text file and decodes it.
		x.textFiles(idx)
	}
	switch {
	case isTNEF(p.Data) || p.DeclaredType == "application/ms-tnef" || p.DeclaredType == "application/vnd.ms-tnef":
		x.tnef(idx)
	case isDocument(p.DetectedType):
		x.macros(idx)
		x.ole(idx)
	case p.DetectedType == "application/zip":
		x.macros(idx) // a .docm renamed and sniffed as plain zip
		x.archive(idx)
	default:
		x.archive(idx)
	}
}

// isMessage says whether a part is a mail message that a mail client
// opens as one: named so (forward.eml, page.mht), or sniffed as a message
// and not declared as text.
func isMessage(p message.Part) bool {
	name := strings.ToLower(strings.TrimRight(p.Filename, ". "))
	for _, ext := range []string{".eml", ".mht", ".mhtml"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return p.DetectedType == "message/rfc822" && !strings.HasPrefix(p.DeclaredType, "text/") &&
		!strings.HasPrefix(p.DeclaredType, "multipart/")
}

// embeddedMessage explodes the message held by part idx; its parts become
// members of idx, one container level deeper, and count against the MIME
// limits of the whole message.
func (x *exploder) embeddedMessage(idx int) {
	p := x.res.Parts[idx]
	if p.Depth+1 > x.lim.MaxArchiveDepth {
		x.report(message.KindContent, idx, "archive-depth",
			fmt.Sprintf("%s: more than %d levels", TextArchiveDepth, x.lim.MaxArchiveDepth), message.ActionReplace)
		return
	}
	depth := x.mimeDepth + 1
	if depth > x.lim.MaxMIMEDepth {
		x.limit(TextMIMEDepth, fmt.Sprintf("more than %d levels", x.lim.MaxMIMEDepth))
		return
	}
	saved := x.scope
	x.scope = scope{parent: idx, path: p.Path, mimePath: p.MIMEPath, depth: p.Depth + 1}
	x.message(p.Data, "", depth, false)
	x.scope, x.mimeDepth = saved, depth-1
}

func isText(p message.Part) bool {
	return strings.HasPrefix(p.DeclaredType, "text/") || p.DeclaredType == "" ||
		strings.HasPrefix(p.DetectedType, "text/")
}

// isDocument says whether a sniffed type is an office document: a zip or
// OLE2 file that is not to be treated as an archive.
func isDocument(t string) bool {
	return strings.HasPrefix(t, "application/vnd.openxmlformats-officedocument.") ||
		strings.HasPrefix(t, "application/vnd.oasis.opendocument.") ||
		strings.HasPrefix(t, "application/vnd.ms-") && t != "application/vnd.ms-cab-compressed" && t != "application/vnd.ms-htmlhelp" ||
		t == "application/msword" || t == "application/x-ole-storage" || t == "application/epub+zip"
}

// vbaOLE is the name of the VBA project stream in an OLE2 directory
// (UTF-16LE).
var vbaOLE = []byte("_\x00V\x00B\x00A\x00_\x00P\x00R\x00O\x00J\x00E\x00C\x00T\x00")

// macros reports VBA projects in OOXML (vbaProject.bin) and OLE2 files.
func (x *exploder) macros(idx int) {
	data := x.res.Parts[idx].Data
	found := bytes.Contains(data, vbaOLE)
	if !found && bytes.HasPrefix(data, []byte("PK")) {
		if zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			for i, f := range zr.File {
				if i >= x.lim.MaxArchiveMembers {
					break
				}
				if strings.HasSuffix(strings.ToLower(f.Name), "vbaproject.bin") {
					found = true
					break
				}
			}
		}
	}
	if found {
		x.report(message.KindContent, idx, "macros", TextMacros, message.ActionNone)
	}
}

// textFiles decodes the uuencoded, yEnc and BinHex files found in a text
// part, under the expansion budget.
func (x *exploder) textFiles(idx int) {
	data := x.res.Parts[idx].Data
	var files []embedded
	for _, find := range []struct {
		what string
		f    func(room int64) ([]embedded, bool)
	}{
		{"uuencoded data", func(room int64) ([]embedded, bool) { return findUU(data, maxEmbedded, room) }},
		{"yEnc data", func(room int64) ([]embedded, bool) { return findYEnc(data, maxEmbedded, room) }},
		{"BinHex data", func(room int64) ([]embedded, bool) { return x.binhex(idx, data, room) }},
	} {
		if x.done() {
			return
		}
		room, limit := x.room()
		got, ok := find.f(room)
		for _, f := range got {
			x.spend(len(f.Data))
		}
		files = append(files, got...)
		if !ok {
			x.overLimit(idx, "decoding "+find.what, room, limit)
			break
		}
	}
	x.children(idx, files)
}

// binhex decodes the BinHex blocks of a text part; a malformed one is
// reported.
func (x *exploder) binhex(idx int, data []byte, room int64) ([]embedded, bool) {
	files, _, err, ok := findBinHex(data, maxEmbedded, room)
	if err != nil {
		x.report(message.KindContent, idx, "binhex-unreadable", "unreadable BinHex data: "+err.Error(), message.ActionNone)
	}
	return files, ok
}

// tnef decodes a winmail.dat into its attachments. They are slices of the
// stream, yet they count against the budget like every decoder's output:
// each is scanned on its own.
func (x *exploder) tnef(idx int) {
	files, err := decodeTNEF(x.res.Parts[idx].Data, x.lim.MaxArchiveMembers)
	if err != nil {
		x.report(message.KindContent, idx, "tnef-unreadable", fmt.Sprintf("%s: %v", TextTNEF, err), message.ActionNone)
	}
	for i, f := range files {
		if room, limit := x.room(); int64(len(f.Data)) > room {
			x.overLimit(idx, "decoding TNEF", room, limit)
			files = files[:i]
			break
		}
		x.spend(len(f.Data))
	}
	x.children(idx, files)
}

// children adds decoded files under part idx, one container level deeper.
func (x *exploder) children(idx int, files []embedded) {
	if len(files) == 0 {
		return
	}
	parent := x.res.Parts[idx]
	if parent.Depth+1 > x.lim.MaxArchiveDepth {
		x.report(message.KindContent, idx, "archive-depth",
			fmt.Sprintf("%s: more than %d levels", TextArchiveDepth, x.lim.MaxArchiveDepth), message.ActionReplace)
		return
	}
	for i, f := range files {
		if x.done() {
			return
		}
		name := f.Name
		shown := cmp.Or(name, f.Label, fmt.Sprintf("file-%d", i+1))
		c := x.addPart(message.Part{
			Parent:       idx,
			Path:         parent.Path + "/" + shown,
			MIMEPath:     parent.MIMEPath,
			Filename:     name,
			AltNames:     f.Alt,
			DetectedType: detect(f.Data),
			Size:         int64(len(f.Data)),
			Depth:        parent.Depth + 1,
			Data:         f.Data,
		})
		x.inspect(c)
	}
}
