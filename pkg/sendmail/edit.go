package sendmail

import (
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/message"
)

// Edit makes header edits on the queue file in order (see
// message.EditHeader, which makes the same on header text); additions go
// before the first header instead of after the last when atTop is set.
func (q *Qf) Edit(edits []message.HeaderEdit, atTop bool) error {
	add := q.AddHeader
	if atTop {
		add = q.AddHeaderTop
	}
	for _, e := range edits {
		var err error
		v := unfoldValue(e.Value) // the qf writer folds values itself
		switch e.Op {
		case message.HeaderDelete:
			q.DeleteHeader(e.Name)
		case message.HeaderAdd:
			err = add(e.Name, v)
		case message.HeaderReplace:
			if _, ok := q.Header(e.Name); ok {
				err = q.ReplaceHeader(e.Name, v)
			} else {
				err = add(e.Name, v)
			}
		default:
			err = fmt.Errorf("unknown header edit %v", e.Op)
		}
		if err != nil {
			return fmt.Errorf("header %s %s: %w", e.Op, e.Name, err)
		}
	}
	return nil
}

// unfoldValue joins a folded header value into one line.
func unfoldValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	var b strings.Builder
	for i, line := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		if i > 0 {
			line = " " + strings.TrimLeft(line, " \t")
		}
		b.WriteString(line)
	}
	return b.String()
}
