package message

import "strings"

// SpamActionKind is one word of MailScanner's spam action vocabulary.
type SpamActionKind string

// The spam actions.
const (
	SpamDeliver    SpamActionKind = "deliver"    // deliver to the original recipients
	SpamDelete     SpamActionKind = "delete"     // drop silently
	SpamStore      SpamActionKind = "store"      // keep a copy in the spam quarantine
	SpamForward    SpamActionKind = "forward"    // send a copy to Addr ("forward ADDR", or a bare address)
	SpamBounce     SpamActionKind = "bounce"     // tell the sender (never for high-scoring spam)
	SpamHeader     SpamActionKind = "header"     // add header Name: Value (_TO_ = the recipients)
	SpamStripHTML  SpamActionKind = "striphtml"  // turn HTML parts into text
	SpamAttachment SpamActionKind = "attachment" // wrap the original as a message/rfc822 attachment
	SpamNotify     SpamActionKind = "notify"     // send the recipients a spam notice instead
)

// SpamAction is one parsed spam action (pkg/spam ParseActions).
type SpamAction struct {
	Kind  SpamActionKind
	Addr  string // SpamForward
	Name  string // SpamHeader: field name
	Value string // SpamHeader: field value
}

// String writes a in the syntax spam.ParseActions reads: a header's "Name:
// value" in double quotes with the parser's own escapes (\" and \\), every
// other byte as it is (a Go-quoted \t or \x8a would read back as "t" or
// "x8a").
func (a SpamAction) String() string {
	switch a.Kind {
	case SpamForward:
		return "forward " + a.Addr
	case SpamHeader:
		return "header " + quote(a.Name+": "+a.Value)
	}
	return string(a.Kind)
}

// quote is the inverse of spam.ParseActions' reading of a quoted word.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// SpamActions is a parsed action list, in the order written.
type SpamActions []SpamAction

func (as SpamActions) String() string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

// Has reports whether the list holds an action of kind k.
func (as SpamActions) Has(k SpamActionKind) bool {
	for _, a := range as {
		if a.Kind == k {
			return true
		}
	}
	return false
}

// Delivers reports whether the original recipients get the message.
func (as SpamActions) Delivers() bool { return as.Has(SpamDeliver) }
