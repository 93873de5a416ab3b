package pipeline

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
)

// Bounds of what one log line shows: a message with 100,000 recipients
// or a thousand findings still gets a line of a few kilobytes.
const (
	MaxLoggedRecipients = 10
	maxLoggedValue      = 512 // bytes of one value (an address, a reason)
)

// MessageLog is the one log line of what became of a message. Every
// outcome is written by its Write, with the same keys in the same order
// (README.md, "Reading the logs"):
//
//	ID from=<a@b> to=<c@d> nrcpts=1 size=1234 verdict=infected virus=Eicar spam=no(1.2) action=cleaned quarantined=true reason="..." attempt=1 ms=12 ms_virus=3
//
// then quarantine=DIR when something was quarantined, retry= and error=
// when the message was held, kind= and about= for a report qscan sent,
// and ms_STAGE for each stage that ran.
type MessageLog struct {
	ID         string
	From       string
	To         []string // all recipients: Write shows the first MaxLoggedRecipients
	Size       int64
	Verdict    message.Verdict
	Virus      string // names found, comma separated
	Spam       string // "no(1.2)", "yes(7.3)", "high(12.0)", "unchecked"
	Action     message.Outcome
	Quarantine string // the quarantine entry written; "" when nothing was quarantined
	Reason     string
	Attempt    int
	MS         int64
	StageMS    map[string]int64
	Retry      string // held: when it is tried again ("30s", "now")
	Err        error  // held: why the checks or the commit failed
	Kind       string // a report: postmaster, sender, spam-notify, spam-bounce
	About      []string
	// The SMTP content filter: the original client (from XFORWARD) and
	// the re-injection's downstream reply.
	Client     string
	Downstream string
}

// Write logs the line at level: as text in the message (for the line
// formatter) and as fields (for JSON and syslog).
func (l MessageLog) Write(log logrus.FieldLogger, level logrus.Level) {
	f := logrus.Fields{"line": true}
	var b strings.Builder
	b.WriteString(logValue(l.ID))
	add := func(k string, v any) {
		f[k] = v
		fmt.Fprintf(&b, " %s=%v", k, v)
	}
	addS := func(k, v string) {
		f[k] = v
		b.WriteString(" " + k + "=" + logValue(v))
	}
	addS("from", "<"+bound(l.From)+">")
	addS("to", recipients(l.To))
	add("nrcpts", len(l.To))
	add("size", l.Size)
	addS("verdict", string(l.Verdict))
	addS("virus", bound(l.Virus))
	addS("spam", l.Spam)
	addS("action", string(l.Action))
	add("quarantined", l.Quarantine != "")
	addS("reason", bound(l.Reason))
	add("attempt", l.Attempt)
	add("ms", l.MS)
	if l.Quarantine != "" {
		addS("quarantine", l.Quarantine)
	}
	if l.Client != "" {
		addS("client", l.Client)
	}
	if l.Downstream != "" {
		addS("downstream", bound(l.Downstream))
	}
	if l.Retry != "" {
		addS("retry", l.Retry)
	}
	if l.Err != nil {
		addS("error", bound(l.Err.Error()))
	}
	if l.Kind != "" {
		addS("kind", l.Kind)
		addS("about", capped(l.About, bound))
	}
	names := make([]string, 0, len(l.StageMS))
	for k := range l.StageMS {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		add("ms_"+k, l.StageMS[k])
	}
	log.WithFields(f).Log(level, b.String())
}

// recipients shows the first MaxLoggedRecipients addresses and how many
// more there are (nrcpts gives the total).
func recipients(to []string) string {
	return capped(to, func(a string) string { return "<" + bound(a) + ">" })
}

// capped joins the first MaxLoggedRecipients of xs, each as show writes
// it, and says how many more there are.
func capped(xs []string, show func(string) string) string {
	n := min(len(xs), MaxLoggedRecipients)
	shown := make([]string, n)
	for i := range shown {
		shown[i] = show(xs[i])
	}
	s := strings.Join(shown, ",")
	if more := len(xs) - n; more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// bound cuts s to maxLoggedValue bytes (on a rune boundary), saying how
// much was left out.
func bound(s string) string {
	if len(s) <= maxLoggedValue {
		return s
	}
	cut := maxLoggedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes more)", s[:cut], len(s)-cut)
}

// logValue writes a value so that the line stays one line of key=value
// pairs: "-" for empty, quoted when it holds a space, a quote, an equals
// sign or a control or non-ASCII character.
func logValue(v string) string {
	if v == "" {
		return "-"
	}
	for _, r := range v {
		if r <= ' ' || r == '"' || r == '=' || r >= 0x7f {
			return strconv.Quote(v)
		}
	}
	return v
}
