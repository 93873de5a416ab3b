package rebuild

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/internal/golden"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/mimetree"
)

// goldenCase is testdata/NAME.repl.
type goldenCase struct {
	Replacements []struct {
		MIMEPath string `json:"mime_path"`
		Text     string `json:"text"`
		Filename string `json:"filename"`
		Delete   bool   `json:"delete"`
		Convert  bool   `json:"convert"`
	} `json:"replacements"`
	InlineWarning string `json:"inline_warning"`
	InlineParts   bool   `json:"inline_parts"`
}

// splitMessage cuts a whole message into its header block (with the last
// line break) and body, as the qf and df hold them.
func splitMessage(raw []byte) (header, body []byte) {
	hdrEnd, bodyStart := mimetree.SplitHeader(raw, 0, len(raw))
	return raw[:hdrEnd], raw[bodyStart:]
}

func loadCase(t *testing.T, name string) ([]Replacement, Options) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var gc goldenCase
	if err := json.Unmarshal(b, &gc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var repl []Replacement
	for _, r := range gc.Replacements {
		repl = append(repl, Replacement{MIMEPath: r.MIMEPath, Text: []byte(r.Text), Filename: r.Filename, Delete: r.Delete, Convert: r.Convert})
	}
	return repl, Options{InlineWarning: []byte(gc.InlineWarning), InlineParts: gc.InlineParts}
}

// TestGolden rebuilds testdata/NAME.eml with NAME.repl and compares the
// whole outgoing message (edited header, blank line, body) to NAME.want.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, eml := range files {
		name := strings.TrimSuffix(eml, ".eml")
		t.Run(filepath.Base(name), func(t *testing.T) {
			raw, err := os.ReadFile(eml)
			if err != nil {
				t.Fatal(err)
			}
			repl, opt := loadCase(t, name+".repl")
			header, body := splitMessage(raw)
			res, err := Rebuild(header, body, repl, opt)
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			got := outgoing(header, res)
			golden.Check(t, name+".want", got)
			checkKept(t, header, body, repl, res.Body)
			checkReadable(t, got, repl, opt)
		})
	}
}

// outgoing is the message as delivered: header with edits, blank line, body.
func outgoing(header []byte, res Result) []byte {
	h := message.EditHeader(header, res.Edits())
	nl := lineBreak(h)
	return append(append(h, nl...), res.Body...)
}

// checkKept asserts that every part neither replaced nor inside a replaced
// part appears in the output byte for byte, in the original order.
func checkKept(t *testing.T, header, body []byte, repl []Replacement, out []byte) {
	t.Helper()
	tr, err := walk(header, body, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	hit := map[*mimetree.Node]bool{}
	for _, r := range repl {
		n, err := find(tr, r.MIMEPath)
		if err != nil {
			t.Fatal(err)
		}
		hit[n] = true
	}
	pos := 0
	var visit func(n *mimetree.Node)
	visit = func(n *mimetree.Node) {
		for p := n; p != nil; p = p.Parent {
			if hit[p] {
				return
			}
		}
		if len(n.Kids) > 0 {
			for _, k := range n.Kids {
				visit(k)
			}
			return
		}
		if n.Top {
			return
		}
		seg := body[n.BodyStart:n.End]
		i := bytes.Index(out[pos:], seg)
		if i < 0 {
			t.Errorf("part %s (%q...) not kept byte for byte in order", n.Path, firstBytes(seg))
			return
		}
		pos += i + len(seg)
	}
	for _, n := range sortedLeaves(tr) {
		visit(n)
	}
}

func sortedLeaves(tr *mimetree.Tree) []*mimetree.Node {
	var out []*mimetree.Node
	for _, n := range tr.Paths {
		if len(n.Kids) == 0 && n.Proxy == nil && n.Inner == nil {
			out = append(out, n)
		}
	}
	// order of appearance in the body
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].BodyStart < out[j-1].BodyStart; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func firstBytes(b []byte) []byte {
	if len(b) > 30 {
		return b[:30]
	}
	return b
}

// checkReadable parses the output with enmime, as a mail client would, and
// looks for every replacement text and the inline warning.
func checkReadable(t *testing.T, msg []byte, repl []Replacement, opt Options) {
	t.Helper()
	env, err := enmime.ReadEnvelope(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("enmime.ReadEnvelope(output): %v", err)
	}
	for _, e := range env.Errors {
		if e.Severe {
			t.Errorf("enmime: severe error in output: %v", e)
		}
	}
	var texts []string
	texts = append(texts, env.Text)
	for _, a := range append(env.Attachments, env.Inlines...) {
		texts = append(texts, string(a.Content))
	}
	for _, a := range env.OtherParts {
		texts = append(texts, string(a.Content))
	}
	all := strings.ReplaceAll(strings.Join(texts, "\n--\n"), "\r\n", "\n")
	for _, r := range repl {
		if len(r.Text) > 0 && !strings.Contains(all, strings.TrimSpace(string(r.Text))) {
			t.Errorf("replacement text %q not readable in output", r.Text)
		}
	}
	if w := strings.TrimSpace(string(opt.InlineWarning)); w != "" && !strings.Contains(env.Text, w) {
		t.Errorf("inline warning %q not in the text body %q", w, env.Text)
	}
}
