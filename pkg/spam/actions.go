package spam

import (
	"errors"
	"fmt"
	"strings"
)

// ActionKind is one word of MailScanner's spam action vocabulary.
type ActionKind string

// The spam actions.
const (
	ActDeliver    ActionKind = "deliver"    // deliver to the original recipients
	ActDelete     ActionKind = "delete"     // drop silently
	ActStore      ActionKind = "store"      // keep a copy in the spam quarantine
	ActForward    ActionKind = "forward"    // send a copy to Addr ("forward ADDR", or a bare address)
	ActBounce     ActionKind = "bounce"     // tell the sender (never for high-scoring spam)
	ActHeader     ActionKind = "header"     // add header Name: Value (_TO_ = the recipients)
	ActStripHTML  ActionKind = "striphtml"  // turn HTML parts into text
	ActAttachment ActionKind = "attachment" // wrap the original as a message/rfc822 attachment
	ActNotify     ActionKind = "notify"     // send the recipients a spam notice instead
)

var actionWords = map[string]ActionKind{
	"deliver": ActDeliver, "delete": ActDelete, "store": ActStore, "forward": ActForward,
	"bounce": ActBounce, "header": ActHeader, "striphtml": ActStripHTML,
	"attachment": ActAttachment, "notify": ActNotify,
}

// Action is one parsed spam action.
type Action struct {
	Kind  ActionKind
	Addr  string // ActForward
	Name  string // ActHeader: field name
	Value string // ActHeader: field value
}

// String writes a in the syntax ParseActions reads: a header's "Name:
// value" in double quotes with the parser's own escapes (\" and \\), every
// other byte as it is (a Go-quoted \t or \x8a would read back as "t" or
// "x8a").
func (a Action) String() string {
	switch a.Kind {
	case ActForward:
		return "forward " + a.Addr
	case ActHeader:
		return "header " + quote(a.Name+": "+a.Value)
	}
	return string(a.Kind)
}

// quote is the inverse of tokenize's reading of a quoted word.
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

// Actions is a parsed action list, in the order written.
type Actions []Action

func (as Actions) String() string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

// Has reports whether the list holds an action of kind k.
func (as Actions) Has(k ActionKind) bool {
	for _, a := range as {
		if a.Kind == k {
			return true
		}
	}
	return false
}

// Delivers reports whether the original recipients get the message.
func (as Actions) Delivers() bool { return as.Has(ActDeliver) }

// Bounds on action lists from configuration.
const (
	maxActionsLen = 4096
	maxAddrLen    = 254
	maxHeaderLen  = 998
)

// ErrActions is wrapped by every ParseActions error.
var ErrActions = errors.New("spam actions")

// ParseActions parses an action list such as
//
//	deliver header "X-Spam-Status: Yes" forward spam@example.com
//
// reporting every problem at once: unknown words, a forward without a valid
// address, a header that is not "Name: value" or would inject a line
// break, deliver together with delete, an empty list, a list longer than
// maxActionsLen bytes as written or as String writes it. Words compare without
// regard to case; a bare address means "forward" to it, as in MailScanner.
func ParseActions(s string) (Actions, error) {
	if len(s) > maxActionsLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrActions, maxActionsLen)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrActions, s, err)
	}
	var as Actions
	var errs []error
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		kind, ok := actionWords[strings.ToLower(t.text)]
		if t.quoted || !ok {
			if !t.quoted && strings.Contains(t.text, "@") {
				kind, ok = ActForward, true
				i-- // the token itself is the address
			} else {
				errs = append(errs, fmt.Errorf("unknown action %q", t.text))
				continue
			}
		}
		a := Action{Kind: kind}
		if kind == ActForward || kind == ActHeader {
			if i+1 >= len(toks) {
				errs = append(errs, fmt.Errorf("%s needs an argument", kind))
				break
			}
			i++
			if err := a.setArg(toks[i].text); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		as = append(as, a)
	}
	if len(toks) == 0 {
		errs = append(errs, errors.New("no actions (use delete to drop the message)"))
	}
	if as.Has(ActDeliver) && as.Has(ActDelete) {
		errs = append(errs, errors.New("deliver and delete together"))
	}
	// The bound holds for the list as String writes it too (a bare
	// address gains "forward ", a header its quotes), so that what String
	// writes always reads back.
	if n := len(as.String()); n > maxActionsLen {
		errs = append(errs, fmt.Errorf("longer than %d bytes when written out (%d)", maxActionsLen, n))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrActions, s, err)
	}
	return as, nil
}

func (a *Action) setArg(arg string) error {
	switch a.Kind {
	case ActForward:
		if !validAddr(arg) {
			return fmt.Errorf("forward: bad address %q", arg)
		}
		a.Addr = arg
	case ActHeader:
		name, value, ok := strings.Cut(arg, ":")
		if !ok || !validFieldName(name) {
			return fmt.Errorf("header %q: want \"Name: value\"", arg)
		}
		value = strings.TrimLeft(value, " \t")
		if len(arg) > maxHeaderLen || strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return fmt.Errorf("header %q: value too long or contains control characters", arg)
		}
		a.Name, a.Value = name, value
	}
	return nil
}

// validAddr accepts a plain addr-spec "local@domain": no spaces, angle
// brackets, quotes or control characters, a host name of two labels or more.
func validAddr(s string) bool {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || len(s) > maxAddrLen {
		return false
	}
	if strings.ContainsFunc(s[:i], func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(`<>()[]\,;:"@`, r)
	}) {
		return false
	}
	return validDomain(strings.ToLower(s[i+1:]))
}

// validFieldName accepts RFC 5322 field names: printable ASCII but ':'.
func validFieldName(s string) bool {
	return s != "" && len(s) <= 76 && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' })
}

type token struct {
	text   string
	quoted bool
}

// tokenize splits on blanks; "double quotes" group words, with \" and \\
// as escapes inside them.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("unterminated quote")
			}
			toks = append(toks, token{b.String(), true})
			i = j + 1
		default:
			j := strings.IndexAny(s[i:], " \t\r\n\"")
			if j < 0 {
				j = len(s) - i
			}
			toks = append(toks, token{s[i : i+j], false})
			i += j
		}
	}
	return toks, nil
}
