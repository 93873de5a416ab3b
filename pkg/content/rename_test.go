package content

import (
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

func renameChecker(t *testing.T, rules string) *Checker {
	t.Helper()
	rs, err := ParseRules("r.conf", strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewWithRules(DefaultOptions(""), RuleSets{Filename: rs, ArchiveFilename: rs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRenameReport: a rename rule on a MIME attachment asks for it to be
// delivered under the new name, not replaced; on an archive member (whose
// name no header carries) it falls back to a replacement.
func TestRenameReport(t *testing.T) {
	c := renameChecker(t, "rename to .ppt\t\\.pps$\tPPS renamed\tu\n"+
		"rename to _\\1.txt\t\\.(vb[se])$\tscript\tu\n"+
		"rename\t\\.fdf$\t-\t-\n")
	for _, tt := range []struct {
		name   string
		parent int
		act    message.Action
		to     string
	}{
		{"show.PPS", -1, message.ActionRename, "show.ppt"},
		{"show.pps.", -1, message.ActionRename, "show.ppt"}, // the name Windows saves
		{"a.vbs", -1, message.ActionRename, "a_vbs.txt"},
		{"form.fdf", -1, message.ActionRename, "form.fdf.disarmed"},
		{"form.fdf", 0, message.ActionReplace, ""},
	} {
		parts := []message.Part{{Index: 0, Parent: -1, Filename: "a.zip", Archive: true, MIMEPath: "2"},
			{Index: 1, Parent: tt.parent, Filename: tt.name, MIMEPath: "2"}}
		if tt.parent < 0 {
			parts = parts[1:]
			parts[0].Index = 0
		}
		var got []message.Report
		for _, r := range c.Check(&message.Message{Parts: parts}) {
			if r.Kind == message.KindFilename {
				got = append(got, r)
			}
		}
		if len(got) != 1 || got[0].Action != tt.act || got[0].Rename != tt.to {
			t.Errorf("Check(%q, parent %d) = %+v, want action %q rename %q", tt.name, tt.parent, got, tt.act, tt.to)
			continue
		}
		if tt.act == message.ActionRename && !strings.Contains(got[0].Text, "renamed to "+tt.to) {
			t.Errorf("Check(%q): text %q does not say the new name", tt.name, got[0].Text)
		}
	}
}

func TestHarmlessName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"show.ppt", "show.ppt"},
		{"..\\evil.exe.disarmed", ".._evil.exe.disarmed"},
		{"a\u202eexe.pdf.disarmed", "aexe.pdf.disarmed"},
		{"a\x00b\r\n.txt", "ab.txt"},
		{"  ", "attachment.disarmed"},
		{"..", "attachment.disarmed"},
		{strings.Repeat("x", 300) + ".disarmed", strings.Repeat("x", 191) + ".disarmed"},
	} {
		if got := harmlessName(tt.in); got != tt.want {
			t.Errorf("harmlessName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
