package rebuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

// maxFilename bounds a replacement part's file name, in bytes.
const maxFilename = 200

// EncodeText returns text with one line break style (nl) and a final
// line break, and the transfer encoding it needs: 7bit for short-lined
// ASCII, quoted-printable otherwise (no 8BITMIME needed on the way).
func EncodeText(text []byte, nl string) (cte string, out []byte) {
	t := bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	if len(t) == 0 || t[len(t)-1] != '\n' {
		t = append(t, '\n')
	}
	cte = "7bit"
	if needsQP(t) {
		cte = "quoted-printable"
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write(t) // a bytes.Buffer does not fail
		w.Close()
		t = bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n"))
	}
	if nl != "\n" {
		t = bytes.ReplaceAll(t, []byte("\n"), []byte(nl))
	}
	return cte, t
}

func needsQP(t []byte) bool {
	lineLen := 0
	for _, c := range t {
		switch {
		case c == '\n':
			lineLen = 0
			continue
		case c >= 0x7f || (c < ' ' && c != '\t'):
			return true
		}
		lineLen++
		if lineLen > 900 {
			return true
		}
	}
	return false
}

// cleanFilename makes a safe file name for a replacement part: valid
// UTF-8 without control characters or path separators, at most
// maxFilename bytes; def when nothing is left.
func cleanFilename(name, def string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '/' || r == '\\' || (r >= 0x80 && r < 0xa0) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if len(name) > maxFilename {
		name = name[:maxFilename]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	if name == "" {
		return def
	}
	return name
}

// formatParam appends "; key=value" to prefix: a quoted string for
// printable ASCII (quoted even when a token would do, as mail clients
// expect), RFC 2231 encoding otherwise.
func formatParam(prefix, key, value string) string {
	ascii := true
	for i := 0; i < len(value); i++ {
		if value[i] < ' ' || value[i] >= 0x7f {
			ascii = false
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return prefix + "; " + key + `="` + r.Replace(value) + `"`
	}
	v := mime.FormatMediaType("x/y", map[string]string{key: value})
	if v == "" {
		return prefix
	}
	return prefix + strings.TrimPrefix(v, "x/y")
}

// boundaryFor returns a boundary that does not occur in body. "=_" cannot
// start a quoted-printable or base64 line, and the hash makes a clash with
// other text unlikely; the loop makes it impossible.
func boundaryFor(body []byte) string {
	sum := sha256.Sum256(body)
	base := "=_qscan_" + hex.EncodeToString(sum[:12])
	b := base
	for i := 1; bytes.Contains(body, []byte("--"+b)); i++ {
		b = base + "_" + strconv.Itoa(i)
	}
	return b
}

// wrapBody puts the inline warning and the (edited) body into a new
// multipart/mixed: the body's Content-* fields move into its part header.
func (e *editor) wrapBody(header []byte, res Result) Result {
	b := boundaryFor(res.Body)
	effective := message.EditHeader(header, res.Edits())
	var inner bytes.Buffer
	var moved []string
	for _, f := range mimetree.Fields(effective, 0, len(effective)) {
		name := strings.ToLower(f.Name)
		if !strings.HasPrefix(name, "content-") || name == "content-length" {
			continue
		}
		raw := bytes.TrimRight(effective[f.Start:f.End], "\r\n")
		inner.Write(raw)
		inner.WriteString(e.nl)
		if name != "content-type" {
			moved = appendName(moved, f.Name)
		}
	}
	var body bytes.Buffer
	body.WriteString("This is a multi-part message in MIME format." + e.nl + e.nl)
	body.WriteString("--" + b + e.nl)
	body.Write(e.part(e.opt.InlineWarning, "", true, true))
	body.WriteString(e.nl + "--" + b + e.nl)
	body.Write(inner.Bytes())
	body.WriteString(e.nl)
	body.Write(res.Body)
	body.WriteString(e.nl + "--" + b + "--" + e.nl)
	del := append(res.Delete, contentFields...)
	del = append(del, "Content-Transfer-Encoding")
	for _, m := range moved {
		del = appendName(del, m)
	}
	return Result{
		Body:    body.Bytes(),
		Set:     []Field{{"MIME-Version", "1.0"}, {"Content-Type", `multipart/mixed; boundary="` + b + `"`}},
		Delete:  dedupe(del),
		Changed: true,
	}
}

func dedupe(names []string) []string {
	var out []string
	for _, n := range names {
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, n) {
				dup = true
			}
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}
