package spam

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/message"
)

// ActionKind, Action and Actions are message.SpamActionKind,
// message.SpamAction and message.SpamActions: parsed here once, when the
// configuration is loaded, and carried to the policy as they are.
type (
	ActionKind = message.SpamActionKind
	Action     = message.SpamAction
	Actions    = message.SpamActions
)

// The spam actions.
const (
	ActDeliver    = message.SpamDeliver
	ActDelete     = message.SpamDelete
	ActStore      = message.SpamStore
	ActForward    = message.SpamForward
	ActBounce     = message.SpamBounce
	ActHeader     = message.SpamHeader
	ActStripHTML  = message.SpamStripHTML
	ActAttachment = message.SpamAttachment
	ActNotify     = message.SpamNotify
)

var actionWords = map[string]ActionKind{
	"deliver": ActDeliver, "delete": ActDelete, "store": ActStore, "forward": ActForward,
	"bounce": ActBounce, "header": ActHeader, "striphtml": ActStripHTML,
	"attachment": ActAttachment, "notify": ActNotify,
}

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
			if err := setArg(&a, toks[i].text); err != nil {
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

func setArg(a *Action, arg string) error {
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
