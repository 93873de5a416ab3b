package notify

import (
	"strings"
)

// ShouldNotifySender reports whether a notice may go to sender, the
// envelope sender of the message whose header block is header. It never
// answers the null sender, mailer daemons, postmasters, list and
// no-reply addresses, nor mail that says it is bulk, list or automatic
// (Precedence: bulk/list/junk, Auto-Submitted other than "no", List-Id):
// an answer there is backscatter or a mail loop.
func ShouldNotifySender(sender string, header []byte) bool {
	sender = bareAddress(sender)
	if sender == "" || validAddress(sender) != nil {
		return false
	}
	local := sender
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		local = sender[:i]
	}
	if robotLocal(strings.ToLower(local)) {
		return false
	}
	h := parseHeader(header, maxHeaders)
	switch strings.ToLower(strings.Trim(firstWord(h.get("Precedence")), `"`)) {
	case "bulk", "list", "junk":
		return false
	}
	if v, ok := h.lookup("Auto-Submitted"); ok && !strings.EqualFold(firstWord(v), "no") {
		return false
	}
	if _, ok := h.lookup("List-Id"); ok {
		return false
	}
	return true
}

// firstWord is the value up to the first blank, ';' or '(' comment.
func firstWord(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t;("); i >= 0 {
		v = v[:i]
	}
	return v
}

// robotLocal tells local parts that belong to software, not people.
func robotLocal(l string) bool {
	switch l {
	case "mailer-daemon", "postmaster", "nobody", "root", "daemon", "majordomo", "listserv",
		"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply":
		return true
	}
	for _, p := range []string{"owner-", "bounce", "mailer-daemon", "noreply", "no-reply"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	for _, s := range []string{"-owner", "-request", "-bounces", "-bounce"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

// bareAddress strips blanks and one pair of angle brackets.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	return strings.TrimSpace(s)
}
