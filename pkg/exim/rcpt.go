package exim

import (
	"fmt"
	"strconv"
	"strings"
)

// DSN notify bits of Recipient.DSNFlags (Exim's rf_* flags).
const (
	DSNLastHop       = 0x01 // do not propagate DSN requests further
	DSNNotifyNever   = 0x02
	DSNNotifySuccess = 0x04
	DSNNotifyFailure = 0x08
	DSNNotifyDelay   = 0x10
)

// Recipient is one envelope recipient of a -H file.
type Recipient struct {
	Address  string
	ORcpt    string // DSN ORCPT= ("rfc822;bob@example.org"), "" when none
	DSNFlags int    // DSN* bits
	ErrorsTo string // errors_to of a redirect router, "" when none
	Parent   int    // for one_time children, the parent's index; -1 when none
}

// parseRecipient reads a recipient line as Exim 4.96's spool_in.c does,
// from the end: "address", "address pno" (early Exim 4), "address
// x,pno,y" (Exim 3), or "address orcpt len,dsnflags errors_to len,pno#3".
func parseRecipient(line string) Recipient {
	r := Recipient{Address: line, Parent: -1}
	p := len(line) - 1
	for p >= 0 && isDigit(line[p]) {
		p--
	}
	if p < 0 {
		return r
	}
	switch line[p] {
	case ',': // Exim 3
		q := p - 1
		for q >= 0 && (isDigit(line[q]) || line[q] == ',') {
			q--
		}
		if q >= 0 && line[q] == ' ' {
			r.Address = line[:q]
			if _, after, ok := strings.Cut(line[q+1:], ","); ok {
				r.Parent = atoiPrefix(after)
			}
		}
	case ' ': // early Exim 4
		r.Address, r.Parent = line[:p], atoiPrefix(line[p+1:])
	case '#':
		flags := atoiPrefix(line[p+1:])
		if flags&0x01 != 0 {
			var ok bool
			if p, r.ErrorsTo, r.Parent, ok = backField(line, p); !ok {
				return Recipient{Address: line, Parent: -1}
			}
		}
		p-- // the blank before the errors_to field
		if flags&0x02 != 0 {
			var ok bool
			if p, r.ORcpt, r.DSNFlags, ok = backField(line, p); !ok {
				return Recipient{Address: line, Parent: -1}
			}
			p--
		}
		if p < 0 {
			return Recipient{Address: line, Parent: -1}
		}
		r.Address = line[:p]
	}
	return r
}

// backField reads "<text> len,n" that ends before end: it returns where
// text starts (the blank before it is at start-1), text and n.
func backField(line string, end int) (start int, text string, n int, ok bool) {
	q := end - 1
	for q >= 0 && (isDigit(line[q]) || line[q] == ',' || line[q] == '-') {
		q--
	}
	if q < 0 {
		return 0, "", 0, false
	}
	l, after, found := strings.Cut(line[q+1:end], ",")
	length, err := strconv.Atoi(l)
	if !found || err != nil || length < 0 || length > q {
		return 0, "", 0, false
	}
	n = atoiPrefix(after)
	return q - length, line[q-length : q], n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoiPrefix reads an optional '-' and the digits at the start of s, as
// sscanf("%d") does; 0 when there are none.
func atoiPrefix(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n
}

// format writes the recipient line as Exim 4.96's spool_out.c does.
func (r Recipient) format() string {
	// As Exim: an ORCPT alone, with no NOTIFY, is not written.
	if r.Parent < 0 && r.ErrorsTo == "" && r.DSNFlags == 0 {
		return r.Address
	}
	return fmt.Sprintf("%s %s %d,%d %s %d,%d#3", r.Address, r.ORcpt, len(r.ORcpt), r.DSNFlags,
		r.ErrorsTo, len(r.ErrorsTo), r.Parent)
}

// checkAddress refuses what cannot be written on one spool line.
func checkAddress(a string) error {
	if strings.ContainsAny(a, "\n\r\x00") {
		return fmt.Errorf("%w: %q", ErrBadAddress, a)
	}
	return nil
}
