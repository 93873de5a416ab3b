package sendmail

import (
	"fmt"
)

// MaxAddressLen bounds addresses given to AddRecipient and NewQf (RFC 5321
// allows 256 octets for a path).
const MaxAddressLen = 256

// checkAddress accepts printable ASCII without angle brackets, so that an
// address from a caller can neither break a qf line nor smuggle another.
func checkAddress(addr string) error {
	if len(addr) > MaxAddressLen {
		return fmt.Errorf("address %.40q...: %w: longer than %d bytes", addr, ErrBadAddress, MaxAddressLen)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c < ' ' || c >= 0x7F || c == '<' || c == '>' {
			return fmt.Errorf("address %q: %w: byte %#x", addr, ErrBadAddress, c)
		}
	}
	return nil
}

// AddRecipient adds the recipient addr as "RP:<addr>" after the last R
// line (before the headers when there is none). A qf without a V line
// (format 0) has no flags in R lines, so there it writes "R<addr>".
func (q *Qf) AddRecipient(addr string) error {
	if addr == "" {
		return fmt.Errorf("add recipient: %w: empty", ErrBadAddress)
	}
	if err := checkAddress(addr); err != nil {
		return fmt.Errorf("add recipient: %w", err)
	}
	e := entry{
		kind: kindRcpt,
		raw:  []byte("RP:<" + addr + ">\n"),
		rcpt: Recipient{Addr: addr, Flags: "P"},
	}
	if q.version < 1 {
		e.raw, e.rcpt.Flags = []byte("R<"+addr+">\n"), ""
	}
	at := -1
	for i, x := range q.entries {
		if x.kind == kindRcpt {
			at = i + 1
		}
	}
	if at < 0 {
		if first, _ := q.headerSpan(); first >= 0 {
			at = first
		} else {
			at = len(q.entries)
		}
	}
	q.insert(at, e)
	return nil
}

// RemoveRecipient removes every recipient whose address equals addr
// (case-insensitively), with its Q and r lines, and returns how many it
// removed. A C line (controlling user) applies to the R lines after it
// until the next C line, so it moves to the next recipient when that one
// has none.
func (q *Qf) RemoveRecipient(addr string) int {
	n := 0
	kept := q.entries[:0]
	var carry []byte // a C line of a removed recipient
	for _, e := range q.entries {
		if e.kind != kindRcpt {
			kept = append(kept, e)
			continue
		}
		if equalFoldASCII(e.rcpt.Addr, addr) {
			n++
			if e.rcpt.Ctl != "" {
				carry = ctlLine(e.raw)
			}
			continue
		}
		if carry != nil && e.rcpt.Ctl == "" {
			e.raw = append(append([]byte{}, carry...), e.raw...)
			e.rcpt.Ctl = string(unfold(carry)[1:])
		}
		carry = nil
		kept = append(kept, e)
	}
	q.entries = kept
	return n
}

// ctlLine returns the C line inside a recipient entry's raw bytes.
func ctlLine(raw []byte) []byte {
	for len(raw) > 0 {
		line, _ := physLine(raw)
		if line[0] == 'C' {
			return line
		}
		raw = raw[len(line):]
	}
	return nil
}
