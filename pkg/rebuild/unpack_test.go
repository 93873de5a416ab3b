package rebuild

import (
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2"
)

const tnefBody = `--b
Content-Type: text/plain

hello
--b
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64

eJ8+IhAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy
--b--
`

// TestUnpackFiles: the winmail.dat part is replaced by its files (or
// they are added after it), each a base64 attachment that a MIME library
// reads back; the text part stays as it was.
func TestUnpackFiles(t *testing.T) {
	files := []File{{Name: "report.doc", Data: []byte("doc bytes")}, {Name: "a/../photo.jpg", Data: []byte(strings.Repeat("j", 200))}}
	for _, keep := range []bool{false, true} {
		res, err := Rebuild([]byte(renameHeader), []byte(tnefBody), []Replacement{{MIMEPath: "2", Files: files, Keep: keep}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(res.Body), "--b\nContent-Type: text/plain\n\nhello\n--b\n") {
			t.Errorf("keep=%v: the text part changed:\n%s", keep, res.Body)
		}
		env, err := enmime.ReadEnvelope(strings.NewReader(renameHeader + "\n" + string(res.Body)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range append(append(env.OtherParts, env.Inlines...), env.Attachments...) {
			names = append(names, a.FileName)
		}
		want := "report.doc|a_.._photo.jpg"
		if keep {
			want = "winmail.dat|" + want
		}
		if strings.Join(names, "|") != want {
			t.Errorf("keep=%v: attachments %q, want %s\n%s", keep, names, want, res.Body)
		}
		for _, a := range env.Attachments {
			if a.FileName == "report.doc" && string(a.Content) != "doc bytes" {
				t.Errorf("report.doc = %q", a.Content)
			}
		}
		if keep != strings.Contains(string(res.Body), "eJ8+IhAAAQaQ") {
			t.Errorf("keep=%v: winmail.dat kept = %v", keep, !keep)
		}
	}
}

// TestUnpackSkipsReplaced: a container that is also replaced is not
// unpacked.
func TestUnpackSkipsReplaced(t *testing.T) {
	res, err := Rebuild([]byte(renameHeader), []byte(tnefBody), []Replacement{
		{MIMEPath: "2", Text: []byte("removed")}, {MIMEPath: "2", Files: []File{{Name: "x.exe", Data: []byte("MZ")}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Body), "x.exe") || !strings.Contains(string(res.Body), "removed") {
		t.Errorf("body:\n%s", res.Body)
	}
}
