package exim

import (
	"bytes"
	"fmt"
)

// SetRecipients replaces the message's recipients (a copy going to other
// addresses: a forward, a quarantine release). The non-recipients tree
// (those already delivered) is emptied: none of the new ones is done.
func (h *H) SetRecipients(rs []Recipient) error {
	var b bytes.Buffer
	b.WriteString("XX\n")
	fmt.Fprintf(&b, "%d\n", len(rs))
	for _, r := range rs {
		if err := checkAddress(r.Address); err != nil {
			return err
		}
		if err := checkAddress(r.ORcpt + r.ErrorsTo); err != nil {
			return err
		}
		b.WriteString(r.format())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	h.tail = b.Bytes()
	h.rcpts = append([]Recipient(nil), rs...)
	return nil
}
