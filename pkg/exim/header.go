package exim

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/message"
)

// Header flag characters of a -H file (Exim's htype_*).
const (
	FlagOther    = ' '
	FlagBcc      = 'B'
	FlagCc       = 'C'
	FlagFrom     = 'F'
	FlagID       = 'I' // Message-ID:
	FlagReplyTo  = 'R'
	FlagReceived = 'P' // P for "postmark"
	FlagSender   = 'S'
	FlagTo       = 'T'
	FlagDeleted  = '*' // replaced or deleted: kept in the file, never sent
)

// hrec is one header record: "NNNf " and the header's text.
type hrec struct {
	prefix []byte // the length, the flag and a blank, verbatim
	flag   byte
	name   string
	text   []byte // "Name: value\n\tmore\n"
}

func newHrec(prefix []byte, flag byte, text []byte) hrec {
	name := ""
	if i := bytes.IndexByte(text, ':'); i > 0 {
		n := bytes.TrimRight(text[:i], " \t")
		if message.ValidHeaderName(string(n)) {
			name = string(n)
		}
	}
	return hrec{prefix: prefix, flag: flag, name: name, text: text}
}

// makeHrec builds a record as Exim writes one: "%03d%c ".
func makeHrec(flag byte, text []byte) hrec {
	return newHrec([]byte(fmt.Sprintf("%03d%c ", len(text), flag)), flag, text)
}

// Header is one header of a -H file.
type Header struct {
	Flag  byte   // Flag* constant
	Name  string // "" when the text has no valid name
	Value string // unfolded, without surrounding blanks
	Text  []byte // the header as the message carries it, final "\n" included
}

// Headers returns every header record in file order, deleted ones ('*')
// included.
func (h *H) Headers() []Header {
	out := make([]Header, 0, len(h.headers))
	for _, r := range h.headers {
		out = append(out, Header{Flag: r.flag, Name: r.name, Value: r.value(), Text: r.text})
	}
	return out
}

func (r hrec) value() string {
	_, v, _ := bytes.Cut(r.text, []byte(":"))
	v = bytes.ReplaceAll(v, []byte("\n"), nil)
	return string(bytes.Trim(v, " \t"))
}

// Header returns the value of the first live header called name
// (compared without regard to case), unfolded.
func (h *H) Header(name string) (string, bool) {
	for _, r := range h.headers {
		if r.flag != FlagDeleted && strings.EqualFold(r.name, name) {
			return r.value(), true
		}
	}
	return "", false
}

// HeaderBlock returns the header Exim sends: the live headers (not '*')
// in order, as RFC 5322 text with LF line ends and no final blank line.
// Exim adds Return-Path: (and Envelope-to:, Delivery-date:) only when it
// delivers, so they are not in it.
func (h *H) HeaderBlock() []byte {
	n := 0
	for _, r := range h.headers {
		n += len(r.text)
	}
	b := make([]byte, 0, n)
	for _, r := range h.headers {
		if r.flag != FlagDeleted {
			b = append(b, r.text...)
		}
	}
	return b
}

// flagFor returns the flag Exim gives a header of this name.
func flagFor(name string) byte {
	switch strings.ToLower(name) {
	case "bcc":
		return FlagBcc
	case "cc":
		return FlagCc
	case "from":
		return FlagFrom
	case "message-id":
		return FlagID
	case "reply-to":
		return FlagReplyTo
	case "received":
		return FlagReceived
	case "sender":
		return FlagSender
	case "to":
		return FlagTo
	}
	return FlagOther
}

// headerText formats "Name: value\n" as message.EditHeader does (folds
// kept when followed by a blank, other line breaks made spaces).
func headerText(name, value string) ([]byte, error) {
	if !message.ValidHeaderName(name) {
		return nil, fmt.Errorf("%w: name %q", ErrBadHeader, name)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return nil, fmt.Errorf("%w: NUL in %s", ErrBadHeader, name)
	}
	return message.EditHeader(nil, []message.HeaderEdit{{Op: message.HeaderAdd, Name: name, Value: value}}), nil
}

// Edit makes header edits in order with the meaning of
// message.EditHeader, the way Exim itself changes headers: a deleted or
// replaced header stays in the file marked '*' (sent by no one, kept
// "for debugging"); a replacement is written right after the first header
// it replaces; an addition goes after the last header, or before the
// first one when atTop is set. New records get the flag letter Exim
// gives their name and their own length.
func (h *H) Edit(edits []message.HeaderEdit, atTop bool) error {
	for _, e := range edits {
		var err error
		switch e.Op {
		case message.HeaderDelete:
			h.deleteHeader(e.Name, -1)
		case message.HeaderAdd:
			err = h.addHeader(e.Name, e.Value, atTop)
		case message.HeaderReplace:
			err = h.replaceHeader(e.Name, e.Value, atTop)
		default:
			err = fmt.Errorf("unknown header edit %v", e.Op)
		}
		if err != nil {
			return fmt.Errorf("header %s %s: %w", e.Op, e.Name, err)
		}
	}
	return nil
}

// deleteHeader marks every live header called name '*', but the one at
// keep.
func (h *H) deleteHeader(name string, keep int) {
	for i, r := range h.headers {
		if i != keep && r.flag != FlagDeleted && name != "" && strings.EqualFold(r.name, name) {
			h.headers[i] = makeHrec(FlagDeleted, r.text)
		}
	}
}

func (h *H) addHeader(name, value string, atTop bool) error {
	text, err := headerText(name, value)
	if err != nil {
		return err
	}
	r := makeHrec(flagFor(name), text)
	if atTop {
		h.headers = append([]hrec{r}, h.headers...)
	} else {
		h.headers = append(h.headers, r)
	}
	return nil
}

func (h *H) replaceHeader(name, value string, atTop bool) error {
	first := -1
	for i, r := range h.headers {
		if r.flag != FlagDeleted && strings.EqualFold(r.name, name) {
			first = i
			break
		}
	}
	if first < 0 {
		return h.addHeader(name, value, atTop)
	}
	old := h.headers[first]
	text, err := headerText(old.name, value) // keeps the name's spelling
	if err != nil {
		return err
	}
	h.deleteHeader(name, -1)
	h.headers = append(h.headers[:first+1], append([]hrec{makeHrec(flagFor(old.name), text)}, h.headers[first+1:]...)...)
	return nil
}
