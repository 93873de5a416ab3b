package notify

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// A postmaster report is about a whole batch, and one message of it (a
// hundred thousand recipients, hundreds of long member names) can take it
// past Templates.MaxBytes. Dropping the report would leave the other
// messages' viruses unreported, so a report (or notice) that renders too
// large is rendered again from shortened data, step by step, with a note
// at the end saying so: first the lists of each message are cut, then
// only as many messages as fit are shown and the others named in the note.

// shortenStep bounds what each notice shows.
type shortenStep struct {
	recipients, reports, filenames int // entries kept per list
	field                          int // bytes per string
}

var shortenSteps = []shortenStep{
	{recipients: 20, reports: 30, filenames: 30, field: maxField},
	{recipients: 3, reports: 5, filenames: 5, field: 200},
	{recipients: 1, reports: 2, filenames: 1, field: 100},
}

// noteRoom is the room kept for the note, at most a quarter of MaxBytes.
const noteRoom = 1024

// renderShortened renders data shortened so that the text, with its note,
// fits in max bytes. tooLarge is the error of the full rendering, returned
// when data is of a kind that cannot be shortened.
func (t *Templates) renderShortened(tm *template.Template, name string, data any, max int, tooLarge error) ([]byte, error) {
	room := max - min(noteRoom, max/4)
	for _, s := range shortenSteps {
		short, ok := shorten(data, s)
		if !ok {
			return nil, tooLarge
		}
		b, err := t.exec(tm, name, short, room)
		if err == nil {
			return withNote(b, max, "lists of recipients, reports and file names were cut"), nil
		}
		if !errors.Is(err, ErrTooLarge) {
			return nil, err
		}
	}
	pd, ok := data.(PostmasterData)
	if !ok {
		return nil, tooLarge
	}
	return t.firstMessages(tm, name, pd, max, room)
}

// firstMessages renders the report of as many of pd's messages (shortened
// to the last step) as fit in room, and names the others in the note.
func (t *Templates) firstMessages(tm *template.Template, name string, pd PostmasterData, max, room int) ([]byte, error) {
	last := shortenSteps[len(shortenSteps)-1]
	all, _ := shorten(pd, last)
	short := all.(PostmasterData)
	render := func(k int) ([]byte, error) {
		d := short
		d.Messages = short.Messages[:k]
		return t.exec(tm, name, d, room)
	}
	// The largest count that fits: binary search, as rendering is the cost.
	lo, hi := 0, len(short.Messages) // render(lo) fits, render(hi+1..) not known
	best, err := render(0)
	if err != nil {
		return nil, err // the template alone does not fit
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		b, err := render(mid)
		switch {
		case err == nil:
			lo, best = mid, b
		case errors.Is(err, ErrTooLarge):
			hi = mid - 1
		default:
			return nil, err
		}
	}
	var ids []string
	for _, n := range short.Messages[lo:] {
		ids = append(ids, n.ID)
	}
	return withNote(best, max, fmt.Sprintf("%d more messages not shown: %s", len(ids), strings.Join(ids, " "))), nil
}

// withNote appends the note of a shortened text, cut to fit in max.
func withNote(b []byte, limit int, what string) []byte {
	note := fmt.Sprintf("\n[This text was shortened to fit in %d bytes: %s. The log has a line for every message.]\n", limit, what)
	if left := limit - len(b); len(note) > left {
		note = truncate(note, max(left-1, 3)) + "\n"
	}
	if len(b)+len(note) > limit {
		return b
	}
	return append(b, note...)
}

// shorten returns data with every notice cut to s; ok is false for data
// that holds no notice.
func shorten(data any, s shortenStep) (any, bool) {
	switch d := data.(type) {
	case PostmasterData:
		ns := make([]Notice, len(d.Messages))
		for i, n := range d.Messages {
			ns[i] = n.shorten(s)
		}
		d.Messages = ns
		return d, true
	case SenderData:
		d.Notice = d.Notice.shorten(s)
		return d, true
	}
	return nil, false
}

// shorten cuts n's lists and strings to s, saying how much was left out.
func (n Notice) shorten(s shortenStep) Notice {
	n.Recipients = cutList(n.Recipients, s.recipients, s.field, "more recipients")
	n.Reports = cutList(n.Reports, s.reports, s.field, "more report lines")
	n.Filenames = cutList(n.Filenames, s.filenames, s.field, "more file names")
	n.Headers = ""
	for _, f := range []*string{&n.MessageID, &n.Sender, &n.Subject, &n.Quarantine} {
		*f = truncate(*f, s.field)
	}
	return n
}

// cutList keeps the first keep entries of l (each cut to field bytes) and
// counts the others in a last entry.
func cutList(l []string, keep, field int, more string) []string {
	out := make([]string, 0, min(len(l), keep+1))
	for _, v := range l[:min(len(l), keep)] {
		out = append(out, truncate(v, field))
	}
	if len(l) > keep {
		out = append(out, fmt.Sprintf("... and %d %s", len(l)-keep, more))
	}
	return out
}
