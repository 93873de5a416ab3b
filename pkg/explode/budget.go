package explode

import (
	"fmt"

	"github.com/qscan/qscan/pkg/message"
)

// The expansion budget: every decoder (transfer encodings, uuencode, yEnc,
// BinHex, TNEF, archives and compressed files) draws the bytes it produces
// from one allowance per message, Limits.MaxExpandedBytes, and no single
// decoded part may exceed Limits.MaxPartBytes. Decoders are given the room
// left before they run and stop there, so a bomb costs at most the budget.

// room returns how many bytes a decoder may produce now for one part, and
// the limit that sets it.
func (x *exploder) room() (int64, string) {
	left := max(0, x.lim.MaxExpandedBytes-x.expanded)
	if x.lim.MaxPartBytes < left {
		return x.lim.MaxPartBytes, "max_part_bytes"
	}
	return left, "max_expanded_bytes"
}

// spend draws n decoded bytes from the budget.
func (x *exploder) spend(n int) {
	x.expanded += int64(n)
	x.res.Stats.ExpandedBytes = x.expanded
}

// overLimit reports that decoding what (of part idx, or of the message
// when idx is -1) stopped at the room it was given: the part is taken out,
// as an archive that expands too much is; a nested message that cannot be
// decoded holds the whole message. The decoder did that much work, so the
// room is spent: a message of many bombs drains its budget once, and then
// every decoder stops at once.
func (x *exploder) overLimit(idx int, what string, room int64, limit string) {
	x.spend(int(room))
	text := fmt.Sprintf("%s: %s stopped at the %s limit", TextExpandLimit, what, limit)
	if idx < 0 {
		x.report(message.KindContent, -1, "expand-limit", text, message.ActionQuarantine)
		return
	}
	x.report(message.KindContent, idx, "expand-limit", text, message.ActionReplace)
}
