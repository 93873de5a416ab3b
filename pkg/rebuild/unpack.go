package rebuild

import (
	"bytes"
	"encoding/base64"

	"github.com/qscan/qscan/pkg/mimetree"
)

// File is a file delivered in place of, or beside, the container it was
// decoded from (Replacement.Files).
type File struct {
	Name string
	Data []byte
}

// unpackTargets resolves the replacements with Files to their nodes. A
// container that is replaced, renamed, inside a replaced part, or not a
// part of a multipart (nothing to put the files beside) is left as it is.
func unpackTargets(t *mimetree.Tree, repl []Replacement, taken []*target) ([]*target, error) {
	busy := map[*mimetree.Node]*target{}
	for _, tg := range taken {
		busy[tg.n] = tg
	}
	var out []*target
	for _, r := range repl {
		if len(r.Files) == 0 {
			continue
		}
		n, ok := t.Paths[r.MIMEPath]
		if !ok || n.Top || n.Proxy != nil || n.Parent == nil || !n.Parent.IsMultipart() || n.IsMultipart() ||
			busy[n] != nil || insideTarget(n, busy) {
			continue
		}
		tg := &target{n: n, files: r.Files, keep: r.Keep}
		busy[n] = tg
		out = append(out, tg)
	}
	return out, nil
}

// unpack puts the files of tg in place of its part, or after it (keep).
func (e *editor) unpack(tg *target) {
	n := tg.n
	delim := []byte("--" + n.Parent.Type.Params["boundary"] + e.nl)
	var b bytes.Buffer
	for i, f := range tg.files {
		if i > 0 {
			b.Write(delim)
		}
		b.Write(e.filePart(f))
	}
	if tg.keep {
		ins := append(append([]byte(e.nl), delim...), b.Bytes()...)
		if n.NoBreak || n.End == len(e.t.Body) {
			ins = bytes.TrimSuffix(ins, []byte(e.nl))
		}
		e.splices = append(e.splices, edit{n.End, n.End, ins})
		return
	}
	e.splices = append(e.splices, edit{n.Start, n.End, b.Bytes()})
}

// filePart is a base64 attachment part holding f, ending in a line break.
func (e *editor) filePart(f File) []byte {
	name := cleanFilename(f.Name, "attachment")
	var b bytes.Buffer
	b.WriteString("Content-Type: " + formatParam("application/octet-stream", "name", name) + e.nl)
	b.WriteString("Content-Transfer-Encoding: base64" + e.nl)
	b.WriteString("Content-Disposition: " + formatParam("attachment", "filename", name) + e.nl + e.nl)
	enc := base64.StdEncoding.EncodeToString(f.Data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + e.nl)
		enc = enc[76:]
	}
	b.WriteString(enc + e.nl)
	return b.Bytes()
}
