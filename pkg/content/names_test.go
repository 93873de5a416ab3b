package content

import (
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

func TestCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want string // a form that must be among the candidates
	}{
		{"invoice.js.", "invoice.js"},
		{"invoice.hta ", "invoice.hta"},
		{"invoice.vbs::$DATA", "invoice.vbs"},
		{"invoice.vbs:evil:$DATA", "invoice.vbs"},
		{"update.bat..", "update.bat"},
		{"update.bat . .", "update.bat"},
		{"  run.js", "run.js"},
		{"run.js\u00a0", "run.js"},
		{`..\..\evil.exe`, "evil.exe"},
		{"dir/evil.exe", "evil.exe"},
		{"evil.exe/", "evil.exe"},
		{"c:evil.exe", "evil.exe"},
		{"invoice\u202efdp.exe\u202c", "invoicefdp.exe"},
		{"invoice.e\u200bxe", "invoice.exe"},
		{"evil.exe\x00.txt", "evil.exe"},
		{"evil.exe\n", "evil.exe"},
	}
	for _, tt := range tests {
		got := Candidates(tt.in)
		if got[0] != tt.in || !slices.Contains(got, tt.want) {
			t.Errorf("Candidates(%q) = %q, want %q first and %q among them", tt.in, got, tt.in, tt.want)
		}
		for _, c := range got {
			if c == "" {
				t.Errorf("Candidates(%q) holds an empty name", tt.in)
			}
		}
	}
}

func stockChecker(t *testing.T) *Checker {
	t.Helper()
	opts := DefaultOptions("")
	opts.FilenameRules = []string{stockDir + "filename.rules.conf"}
	opts.FiletypeRules = []string{stockDir + "filetype.rules.conf"}
	opts.ArchiveFilenameRules = []string{stockDir + "archives.filename.rules.conf"}
	opts.ArchiveFiletypeRules = []string{stockDir + "archives.filetype.rules.conf"}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// TestNamesWindowsNormalises: names Windows saves as a blocked name are
// blocked, and reported as written.
func TestNamesWindowsNormalises(t *testing.T) {
	c := stockChecker(t)
	for _, name := range []string{"invoice.js.", "invoice.hta ", "invoice.vbs::$DATA", "update.bat..",
		"payload.vbs.", "run.js ", `..\evil.exe`, "dir/evil.exe", "invoice\u202efdp.exe\u202c", " invoice.scr"} {
		msg := &message.Message{Parts: []message.Part{{Index: 0, Parent: -1, Filename: name, DetectedType: "text/plain", MIMEPath: "1"}}}
		reps := c.Check(msg)
		if len(reps) != 1 || reps[0].Kind != message.KindFilename || reps[0].Action != message.ActionReplace {
			t.Errorf("Check(%q) = %+v, want one filename report replacing the part", name, reps)
			continue
		}
		if !strings.Contains(reps[0].Text, shown(name)) {
			t.Errorf("Check(%q) text %q does not name the file as written", name, reps[0].Text)
		}
	}
	for _, name := range []string{"invoice.pdf", "notes.txt.", "photo.jpg "} {
		msg := &message.Message{Parts: []message.Part{{Index: 0, Parent: -1, Filename: name, DetectedType: "text/plain", MIMEPath: "1"}}}
		if reps := c.Check(msg); len(reps) != 0 {
			t.Errorf("Check(%q) = %+v, want none", name, reps)
		}
	}
}

// TestNamesEveryNameChecked: a part is blocked when any of its names is,
// whichever of them comes first and whatever an allow rule says of the
// others.
func TestNamesEveryNameChecked(t *testing.T) {
	c := stockChecker(t)
	for _, p := range []message.Part{
		{Filename: "invoice.txt", AltNames: []string{"invoice.js"}},
		{Filename: "invoice.js", AltNames: []string{"invoice.txt"}},
		{Filename: "photo.jpg", AltNames: []string{"photo.jpg", "setup.exe."}},
		{Filename: "", AltNames: []string{"invoice.hta"}},
	} {
		p.Parent, p.DetectedType, p.MIMEPath = -1, "text/plain", "1"
		reps := c.Check(&message.Message{Parts: []message.Part{p}})
		if len(reps) != 1 || reps[0].Kind != message.KindFilename {
			t.Errorf("Check(%q, %q) = %+v, want one filename report", p.Filename, p.AltNames, reps)
		}
	}
}

func TestRenameRules(t *testing.T) {
	c := stockChecker(t)
	rs, err := ParseRules("r.conf", strings.NewReader(
		"rename to .ppt\t\\.pps$\tl\tu\nrename to .$1.txt\t\\.(vb[se])$\tl\tu\nrename\t\\.fdf$\tl\tu\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, want string }{
		{"show.PPS", "show.ppt"}, {"a.vbs", "a.vbs.txt"}, {"form.fdf", "form.fdf.disarmed"},
	} {
		h := rs.Check("", Candidates(tt.name))
		if h == nil || h.Rule.Verb != Rename {
			t.Errorf("Check(%q) = %v, want a rename", tt.name, h)
			continue
		}
		if got := c.renamed(h.Rule, h.Name); got != tt.want {
			t.Errorf("renamed(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
