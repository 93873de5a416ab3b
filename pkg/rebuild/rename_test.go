package rebuild

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

const renameHeader = "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n"

const renameBody = `--b
Content-Type: text/plain

hello
--b
Content-Type: application/vnd.ms-powerpoint; name="show.pps"; x-mac-type=0
Content-Disposition: attachment;
	filename*0="sh"; filename*1="ow.pps"; size=12
Content-Transfer-Encoding: base64

AAECAwQFBgcICQoL
--b
Content-Type: application/octet-stream;
 name="data.fdf"
Content-Transfer-Encoding: base64

AAEC
--b
Content-Type: text/plain; name="keep.txt"
Content-Disposition: attachment; filename="keep.txt"

kept
--b--
`

// TestRenameRewritesOnlyNames: a renamed part keeps its body bytes, its
// Content-Type and Content-Disposition keep their other parameters, its
// file names (RFC 2231 continuations included) become the new name; a
// part with only a Content-Type name gets a Content-Disposition; every
// other part is byte-identical.
func TestRenameRewritesOnlyNames(t *testing.T) {
	res, err := Rebuild([]byte(renameHeader), []byte(renameBody), []Replacement{
		{MIMEPath: "2", Rename: "show.ppt"}, {MIMEPath: "3", Rename: "data.fdf.disarmed"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := string(res.Body)
	want := strings.Replace(renameBody, `Content-Type: application/vnd.ms-powerpoint; name="show.pps"; x-mac-type=0
Content-Disposition: attachment;
	filename*0="sh"; filename*1="ow.pps"; size=12
`, `Content-Type: application/vnd.ms-powerpoint;
	name="show.ppt";
	x-mac-type=0
Content-Disposition: attachment;
	filename="show.ppt";
	size=12
`, 1)
	want = strings.Replace(want, `Content-Type: application/octet-stream;
 name="data.fdf"
`, `Content-Disposition: attachment; filename="data.fdf.disarmed"
Content-Type: application/octet-stream;
	name="data.fdf.disarmed"
`, 1)
	if got != want {
		t.Errorf("Rebuild rename:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range []string{"AAECAwQFBgcICQoL\n", "--b\nContent-Type: text/plain\n\nhello\n", `Content-Type: text/plain; name="keep.txt"
Content-Disposition: attachment; filename="keep.txt"

kept
`} {
		if !strings.Contains(got, s) {
			t.Errorf("Rebuild rename changed %q", s)
		}
	}
}

// TestRenameTopLevel: a message that is one attachment is renamed by
// header edits; its body is not touched.
func TestRenameTopLevel(t *testing.T) {
	header := "From: a@example.com\nContent-Type: application/x-msdownload; name=\"run.exe\"\nContent-Transfer-Encoding: base64\n"
	body := "TVqQAAMAAAAEAAAA\n"
	res, err := Rebuild([]byte(header), []byte(body), []Replacement{{MIMEPath: "1", Rename: "run.exe.disarmed"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != body {
		t.Errorf("body changed: %q", res.Body)
	}
	out := string(message.EditHeader([]byte(header), res.Edits()))
	for _, w := range []string{`Content-Type: application/x-msdownload; name="run.exe.disarmed"`,
		`Content-Disposition: attachment; filename="run.exe.disarmed"`} {
		if !strings.Contains(out, w) {
			t.Errorf("header lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, `"run.exe"`) {
		t.Errorf("old name left:\n%s", out)
	}
}

// TestCleanRename: the Cleaner renames the parts of Decision.Rename, and
// a part both replaced and renamed is only replaced.
func TestCleanRename(t *testing.T) {
	m := &message.Message{ID: "X", Header: []byte(renameHeader), Body: []byte(renameBody),
		Parts: []message.Part{{Index: 0, Parent: -1, MIMEPath: "1"}, {Index: 1, Parent: -1, MIMEPath: "2", Filename: "show.pps"},
			{Index: 2, Parent: -1, MIMEPath: "3", Filename: "data.fdf"}}}
	c := &Cleaner{Text: func(*message.Message, message.Report) ([]byte, error) { return []byte("removed"), nil }}
	d := &message.Decision{
		Rename:  []message.Replacement{{Part: 1, MIMEPath: "2", Rename: "show.ppt"}, {Part: 2, MIMEPath: "3", Rename: "x.disarmed"}},
		Replace: []message.Replacement{{Part: 2, MIMEPath: "3", Report: message.Report{Kind: message.KindFilename}}},
	}
	body, _, err := c.Clean(m, d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`filename="show.ppt"`)) || bytes.Contains(body, []byte("x.disarmed")) ||
		bytes.Contains(body, []byte("AAEC\n")) || !bytes.Contains(body, []byte("AAECAwQFBgcICQoL\n")) {
		t.Errorf("Clean rename:\n%s", body)
	}
}

// FuzzRenameParam: whatever a Content-Type or Content-Disposition value
// holds, the rewritten one has exactly one file-name parameter, the new
// name, and no other of its forms.
func FuzzRenameParam(f *testing.F) {
	for _, s := range []string{`attachment; filename="a.exe"`, `attachment; filename*0="a"; filename*1=".exe"; size=3`,
		`application/x; name="a;b.exe" (c;"d") ; x=1`, `attachment; filename*=utf-8''%E2%80%AEexe.pdf`, `inline`, `;;;"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		segs, _ := renameParam(v, "filename", "new.txt")
		n := 0
		for _, s := range segs[1:] {
			name, _, _ := strings.Cut(s, "=")
			if paramBase(name) == "filename" {
				n++
				if s != `filename="new.txt"` {
					t.Errorf("renameParam(%q): %q", v, s)
				}
			}
		}
		if n != 1 {
			t.Errorf("renameParam(%q) = %q: %d filename parameters", v, segs, n)
		}
	})
}
