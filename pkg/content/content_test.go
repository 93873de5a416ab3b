package content

import (
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

func newChecker(t *testing.T, mod func(*Options)) *Checker {
	t.Helper()
	opts := DefaultOptions("../../etc")
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func part(name, detected string) message.Part {
	return message.Part{Parent: -1, Path: "2", MIMEPath: "2", Filename: name,
		DeclaredType: "application/octet-stream", DetectedType: detected, Size: 100}
}

// verdict runs the checker on one part and returns its reports.
func verdict(c *Checker, parts ...message.Part) []message.Report {
	for i := range parts {
		parts[i].Index = i
	}
	return c.Check(&message.Message{Parts: parts})
}

func TestDefaultRules(t *testing.T) {
	c := newChecker(t, nil)
	tests := []struct {
		name, detected string
		kind           message.ReportKind // "" = allowed
		text           string             // substring of the report text
	}{
		{"invoice.pdf.exe", "application/vnd.microsoft.portable-executable", message.KindFilename, "filename hiding"},
		{"doc.pdf      .exe", "application/octet-stream", message.KindFilename, "filename hiding"},
		{"doc.pdf            .exe", "application/octet-stream", message.KindFilename, "white space"},
		{"x.{0AFACED1-E828-11D1-9187-B532F1E9575D}", "application/octet-stream", message.KindFilename, "real type"},
		{"invoice\u202Efdp.exe", "application/pdf", message.KindFilename, "bidi"},
		{"pay\u200Bment.pdf", "application/pdf", message.KindFilename, "bidi"},
		{strings.Repeat("a", 300) + ".pdf", "application/pdf", message.KindFilename, "long filename"},
		{"run.JS", "text/plain", message.KindFilename, "JScript"},
		{"setup.msi", "application/x-ole-storage", message.KindFilename, "Installer"},
		{"photo.jpg", "application/vnd.microsoft.portable-executable", message.KindFiletype, "PE32"},
		{"notes.txt", "application/x-elf", message.KindFiletype, "ELF"},
		{"report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "", ""},
		{"report.pdf", "application/pdf", "", ""},
		{"photo.jpg", "image/jpeg", "", ""},
		{"my.report.2024.pdf", "application/pdf", "", ""},
		{"build.sh", "text/x-shellscript", "", ""},
	}
	for _, tt := range tests {
		reps := verdict(c, part(tt.name, tt.detected))
		if tt.kind == "" {
			if len(reps) != 0 {
				t.Errorf("Check(%q, %s) = %+v, want allowed", tt.name, tt.detected, reps)
			}
			continue
		}
		if len(reps) != 1 || reps[0].Kind != tt.kind || !strings.Contains(reps[0].Text, tt.text) ||
			reps[0].Action != message.ActionReplace || reps[0].Part != 0 {
			t.Errorf("Check(%q, %s) = %+v, want one %s report with %q", tt.name, tt.detected, reps, tt.kind, tt.text)
		}
	}
}

func TestArchiveMembersUseArchiveRules(t *testing.T) {
	fn, _ := ParseRules("n", strings.NewReader("deny\t\\.txt$\tnormal\tnormal\n"))
	afn, _ := ParseRules("a", strings.NewReader("deny+delete\t\\.txt$\tarchive\tarchive\n"))
	c, err := NewWithRules(DefaultOptions(""), RuleSets{Filename: fn, ArchiveFilename: afn})
	if err != nil {
		t.Fatal(err)
	}
	zip := part("a.zip", "application/zip")
	zip.Archive = true
	member := part("dir/x.txt", "text/plain")
	member.Parent, member.Path = 0, "2/a.zip/dir/x.txt"
	uu := part("y.txt", "text/plain") // a uudecoded file: its parent is no archive
	uu.Parent = 3
	body := part("", "text/plain")
	reps := verdict(c, zip, member, uu, body)
	if len(reps) != 2 {
		t.Fatalf("Check = %+v, want 2 reports", reps)
	}
	if reps[0].Part != 1 || reps[0].Text != "Filename: dir/x.txt: archive" || reps[0].Action != message.ActionDelete {
		t.Errorf("member report = %+v", reps[0])
	}
	if reps[1].Part != 2 || reps[1].Text != "Filename: y.txt: normal" || reps[1].User != "normal (y.txt)" {
		t.Errorf("uu report = %+v", reps[1])
	}
}

func TestSizesAndDangerous(t *testing.T) {
	c := newChecker(t, func(o *Options) {
		o.MaxMessageSize = 1000
		o.MaxAttachmentSize = 50
		o.BlockEncrypted = true
		o.HTML.Script = HTMLBlock
		o.HTML.IFrame = HTMLAllow
	})
	big := part("big.pdf", "application/pdf")
	partial := message.Part{Parent: -1, DeclaredType: "message/partial"}
	ext := message.Part{Parent: -1, DeclaredType: "message/external-body"}
	qp := message.Part{Parent: -1, DeclaredType: "text/plain", Data: []byte("a\n" + strings.Repeat(" ", 100001) + "\nb")}
	htm := message.Part{Parent: -1, DeclaredType: "text/html",
		Data: []byte(strings.Repeat("<div>", 8190) + `<iframe src=x></iframe><script type="application/ld+json">{}</script><script>alert(1)</script>`)}
	enc := message.Part{Parent: -1, DeclaredType: "application/pgp-encrypted"}
	parts := []message.Part{big, partial, ext, qp, htm, enc}
	for i := range parts {
		parts[i].Index = i
	}
	msg := &message.Message{Size: 5000, Parts: parts}
	var got []string
	for _, r := range c.Check(msg) {
		got = append(got, r.Name+"@"+string(rune('0'+r.Part+1))+":"+string(r.Action))
	}
	want := []string{"message-size@0:quarantine", "encrypted@0:quarantine", "attachment-size@1:replace",
		"partial@2:replace", "external-body@3:replace", "qp-dos@4:replace", "html-script@5:replace"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Check reports\n got %v\nwant %v", got, want)
	}
}

func TestHTMLOptionsValidated(t *testing.T) {
	opts := DefaultOptions("")
	opts.HTML.Form = "maybe"
	if _, err := NewWithRules(opts, RuleSets{}); err == nil || !strings.Contains(err.Error(), "form") {
		t.Errorf("NewWithRules(form=maybe) error = %v, want one naming form", err)
	}
}

func TestLintReportsFileLine(t *testing.T) {
	_, err := LoadRules("testdata/bad.rules.conf")
	if err == nil || !strings.Contains(err.Error(), "testdata/bad.rules.conf:2: ") || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("LoadRules(bad) error = %v, want testdata/bad.rules.conf:2: ... not supported", err)
	}
}
