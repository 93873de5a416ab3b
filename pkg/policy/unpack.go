package policy

import (
	"bytes"

	"github.com/qscan/qscan/pkg/message"
)

// TNEF modes (Settings.TNEF), MailScanner's "Use TNEF Contents".
const (
	TNEFKeep    = "no"      // deliver winmail.dat as it came
	TNEFAdd     = "add"     // add its files beside it
	TNEFReplace = "replace" // deliver its files in its place
)

var tnefMagic = []byte{0x78, 0x9f, 0x3e, 0x22}

// isTNEF tells a winmail.dat MIME part.
func isTNEF(p *message.Part) bool {
	return p.DeclaredType == "application/ms-tnef" || p.DeclaredType == "application/vnd.ms-tnef" ||
		bytes.HasPrefix(p.Data, tnefMagic)
}

// tnefUnpack lists the TNEF parts of m to deliver as their files: MIME
// leaves that are not replaced, whose every file was decoded whole and
// passed the checks (a file with a report leaves its container as it
// is: what replaces it is the container's business).
func tnefUnpack(m *message.Message, replaced []message.Replacement, mode string) []message.Unpacking {
	if mode != TNEFAdd && mode != TNEFReplace {
		return nil
	}
	gone := map[string]bool{}
	for _, r := range replaced {
		gone[r.MIMEPath] = true
	}
	reported := map[int]bool{}
	for _, r := range m.Reports {
		reported[r.Part] = true
	}
	var out []message.Unpacking
	for i := range m.Parts {
		p := &m.Parts[i]
		if p.Parent != -1 || p.MIMEPath == "" || gone[p.MIMEPath] || reported[i] || !isTNEF(p) {
			continue
		}
		u := message.Unpacking{MIMEPath: p.MIMEPath, Keep: mode == TNEFAdd}
		whole := true
		for j := range m.Parts {
			c := &m.Parts[j]
			if c.Parent != i {
				continue
			}
			if reported[j] || c.Data == nil && c.Size > 0 || int64(len(c.Data)) != c.Size {
				whole = false
				break
			}
			u.Files = append(u.Files, j)
		}
		if whole && len(u.Files) > 0 {
			out = append(out, u)
		}
	}
	return out
}
