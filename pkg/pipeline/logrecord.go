package pipeline

import (
	"context"
	"fmt"
	"io"
	"maps"
	"mime"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/store"
)

// LogSink keeps the message log (pkg/store's AppendLog): the records of a
// batch's finished messages, in one call after the batch's commit. The
// database is not on the mail path: an error costs those records (it is
// logged), never mail. A durable outbox (issue 23) goes behind this
// interface.
type LogSink interface {
	AppendLog(ctx context.Context, recs []store.LogRecord) error
}

// logWriteTimeout bounds one batch's log write: a database that hangs
// delays the next commit by this much at most.
const logWriteTimeout = 15 * time.Second

// writeLog hands the records of a batch to the log sink, if any.
func (p *Pipeline) writeLog(recs []store.LogRecord) {
	if p.opt.LogSink == nil || len(recs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), logWriteTimeout)
	defer cancel()
	if err := p.opt.LogSink.AppendLog(ctx, recs); err != nil {
		p.log.WithError(err).WithField("records", len(recs)).Error("cannot write the message log; these messages are not in it (the mail is not affected)")
	}
}

// logRecord is the message-log record of a finished item: what its log
// line says (messageLog), and the subject, the client, the spam rules,
// every report and the decision's actions.
func (p *Pipeline) logRecord(it *item, action message.Outcome) store.LogRecord {
	l := p.messageLog(it, action)
	if it.whole != "" {
		l.Reason = it.whole
	}
	r := recordOf(l, p.now(), p.opt.Host)
	r.OutID = it.outID
	var env message.Envelope
	switch {
	case it.msg != nil:
		env = it.msg.Envelope
		r.Subject = headerValue(it.msg.Header, "Subject") // the original, not the tagged one
	case it.qf != nil:
		env = it.qf.Envelope()
		r.Subject, _ = it.qf.Header("Subject")
	}
	r.Subject = logText(r.Subject)
	r.ClientIP, r.Helo = ipString(env), logText(env.Helo)
	r.Actions = append(r.Actions, decisionActions(it.decision)...)
	if m := it.msg; m != nil {
		r.Viruses, r.Reports = reportsOf(m, it.decision)
	}
	if s := it.decision.Spam; s != nil || it.msg != nil && it.msg.Spam != nil {
		if s == nil {
			s = it.msg.Spam
		}
		r.SpamScore = s.Score
		for _, rule := range s.Rules {
			r.SpamRules = append(r.SpamRules, fmt.Sprintf("%s %.2f", rule.Name, rule.Score))
		}
	}
	return r
}

// recordOf is the record of what a log line says: for the messages that
// end before their checks (set aside as corrupt), that is all there is.
func recordOf(l MessageLog, now time.Time, host string) store.LogRecord {
	r := store.LogRecord{Time: now, Host: host, QueueID: l.ID, Sender: l.From, Recipients: l.To, Size: l.Size,
		Verdict: string(l.Verdict), Actions: []string{string(l.Action)}, StageMS: maps.Clone(l.StageMS),
		Extra: map[string]string{"attempt": fmt.Sprint(l.Attempt), "ms": fmt.Sprint(l.MS)}}
	if l.Reason != "" {
		r.Extra["reason"] = l.Reason
	}
	if l.Quarantine != "" {
		// The entry's ID in the quarantine: <YYYYMMDD>/<name>.
		r.Quarantine = filepath.Base(filepath.Dir(l.Quarantine)) + "/" + filepath.Base(l.Quarantine)
	}
	return r
}

// decisionActions names what the decision did beyond the outcome.
func decisionActions(d message.Decision) []string {
	var out []string
	for _, a := range []struct {
		on   bool
		name string
	}{
		{d.QuarantineParts, "quarantine-parts"}, {d.StoreSpam, "store"}, {len(d.Forward) > 0, "forward"},
		{d.Bounce, "bounce"}, {d.StripHTML, "striphtml"}, {d.SpamAttachment, "attachment"},
		{d.NotifyRecipient, "notify-recipient"}, {d.NotifyPostmaster, "notify-postmaster"},
	} {
		if a.on {
			out = append(out, a.name)
		}
	}
	return out
}

// reportsOf lists the virus names and every report of m, with the part it
// names, whether the decision took that part out, and the file name of a
// blocked file.
func reportsOf(m *message.Message, d message.Decision) ([]string, []store.LogReport) {
	removed := map[int]bool{}
	for _, rp := range d.Replace {
		removed[rp.Part] = true
	}
	var viruses []string
	seen := map[string]bool{}
	var out []store.LogReport
	for _, rep := range m.Reports {
		lr := store.LogReport{Kind: string(rep.Kind), Text: logText(rep.Text), Removed: removed[rep.Part]}
		if rep.Part >= 0 && rep.Part < len(m.Parts) {
			lr.Part = logText(m.PartPath(rep.Part))
			if rep.Kind == message.KindFilename || rep.Kind == message.KindFiletype {
				lr.Filename = logText(m.Parts[rep.Part].Filename)
			}
		}
		if rep.Kind == message.KindVirus && rep.Name != "" && !seen[rep.Name] {
			seen[rep.Name] = true
			viruses = append(viruses, rep.Name)
		}
		out = append(out, lr)
	}
	return viruses, out
}

var logWords = mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

// logText is a header value or a name as the log shows it: RFC 2047 words
// decoded, control characters (a folded line's CRLF, a terminal's
// escapes) as spaces, at most 4 kB read (the store cuts it further).
func logText(s string) string {
	if len(s) > 4096 {
		s = s[:4096]
	}
	if strings.Contains(s, "=?") {
		if d, err := logWords.DecodeHeader(s); err == nil {
			s = d
		}
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
