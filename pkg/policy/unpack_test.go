package policy

import (
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

func tnefMsg(reports ...message.Report) *message.Message {
	return &message.Message{Parts: []message.Part{
		{Index: 0, Parent: -1, MIMEPath: "1", DeclaredType: "text/plain"},
		{Index: 1, Parent: -1, MIMEPath: "2", DeclaredType: "application/ms-tnef", Filename: "winmail.dat"},
		{Index: 2, Parent: 1, MIMEPath: "2", Filename: "a.doc", Data: []byte("doc"), Size: 3},
		{Index: 3, Parent: 1, MIMEPath: "2", Filename: "b.pdf", Data: []byte("pdf!"), Size: 4},
	}, Reports: reports}
}

// TestDecideTNEF: with tnef_contents a clean winmail.dat is unpacked; one
// whose file was reported, or cut short, is not.
func TestDecideTNEF(t *testing.T) {
	s := settings()
	if d := Decide(tnefMsg(), s); len(d.Unpack) != 0 {
		t.Errorf("tnef_contents no: unpack %+v", d.Unpack)
	}
	for _, mode := range []string{TNEFReplace, TNEFAdd} {
		s.TNEF = mode
		d := Decide(tnefMsg(), s)
		if len(d.Unpack) != 1 || d.Unpack[0].MIMEPath != "2" || len(d.Unpack[0].Files) != 2 || d.Unpack[0].Keep != (mode == TNEFAdd) {
			t.Errorf("tnef_contents %s: unpack %+v", mode, d.Unpack)
		}
	}
	s.TNEF = TNEFReplace
	bad := message.Report{Kind: message.KindFilename, Part: 3, Text: "b.pdf blocked", Action: message.ActionReplace}
	if d := Decide(tnefMsg(bad), s); len(d.Unpack) != 0 {
		t.Errorf("reported member: unpack %+v", d.Unpack)
	}
	cut := tnefMsg()
	cut.Parts[3].Data = cut.Parts[3].Data[:2]
	if d := Decide(cut, s); len(d.Unpack) != 0 {
		t.Errorf("member cut short: unpack %+v", d.Unpack)
	}
}
