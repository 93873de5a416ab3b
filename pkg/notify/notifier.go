package notify

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// Event is what the pipeline tells the notifier about one message that a
// check stopped or a spam action wants notices for.
type Event struct {
	ID            string
	Envelope      message.Envelope
	Header        []byte // the message's header block
	Received      time.Time
	Subject       string
	MessageID     string
	Verdict       message.Verdict
	Reports       []message.Report
	Parts         []message.Part // for the file names the reports point at (Data not needed)
	QuarantineDir string
	Delivered     bool // delivered cleaned (else kept back whole)
	Spam          *message.SpamResult
	// NotifyRecipients and Bounce are the spam actions "notify" (tell the
	// recipients the message was not delivered) and "bounce" (tell the
	// sender it was rejected).
	NotifyRecipients, Bounce bool
	// Postmaster says the postmaster report (and a sender notice, as
	// policy allows) is due: a virus, blocked content, a poison message.
	Postmaster bool
}

// Queued is a mail qscan sends itself (reports): the envelope sender is
// always the null sender, so it can never bounce back into a loop.
type Queued struct {
	Recipients []string
	Header     []byte // RFC 822 header block, LF line endings
	Body       []byte
	// Kind ("postmaster", "sender", "spam-notify", "spam-bounce") and
	// About (the queue IDs of the messages it reports on) go into the log
	// line of the mail.
	Kind  string
	About []string
}

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	// Templates by language: every language Language can give (see
	// LoadLanguages).
	Templates map[string]*Templates
	// Language chooses the language of a message's notices and texts; its
	// plain value is the postmaster report's ([notify] language).
	Language ruleset.Setting
	// Postmaster chooses the address of the report about a message, ""
	// for none ([notify] postmaster).
	Postmaster ruleset.Setting
	Site       Site
	// SenderViruses, SenderBlocked and SenderOther say which sender
	// notices are sent ([notify] sender_*).
	SenderViruses, SenderBlocked, SenderOther bool
	// FullHeaders says whether the postmaster report shows a message's
	// whole header ([notify] full_headers, MailScanner's "Notices Include
	// Full Headers"): yes/no, or a ruleset choosing per message.
	FullHeaders ruleset.Setting
	// Bounce enables the spam action "bounce" ([spam] bounce).
	Bounce bool
	// QuarantineDir is named in the replacement texts.
	QuarantineDir string
	Now           func() time.Time // nil: time.Now
}

// Notifier writes the mails qscan sends about the messages it stopped,
// and the texts put in place of removed parts, from the templates.
type Notifier struct {
	o NotifierOptions
	t *Templates // the postmaster's language
}

// NewNotifier returns a notifier; the templates of Language's plain value
// must be loaded.
func NewNotifier(o NotifierOptions) (*Notifier, error) {
	t, ok := o.Templates[o.Language.Plain]
	if !ok {
		return nil, fmt.Errorf("notify: no templates for language %q", o.Language.Plain)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Notifier{o: o, t: t}, nil
}

// LoadLanguages loads the templates of each language from fsys
// (<lang>/<name>.txt): errors come at start-up, not at 3 a.m.
func LoadLanguages(fsys fs.FS, langs []string) (map[string]*Templates, error) {
	out := map[string]*Templates{}
	for _, l := range langs {
		if _, ok := out[l]; ok {
			continue
		}
		t, err := LoadFS(fsys, l)
		if err != nil {
			return nil, err
		}
		out[l] = t
	}
	return out, nil
}

// tmpl returns the templates in the message's language.
func (n *Notifier) tmpl(m *message.Message) *Templates {
	if t, ok := n.o.Templates[n.o.Language.Resolve(ruleset.MsgOf(m))]; ok {
		return t
	}
	return n.t
}

// eventMessage is the message an event is about, as the templates see it.
func eventMessage(x Event) *message.Message {
	return &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Reports: x.Reports, Parts: x.Parts, Received: x.Received}
}

// Postmaster writes one report per postmaster address: [notify]
// postmaster may be a ruleset choosing the address by sender or recipient.
func (n *Notifier) Postmaster(xs []Event) ([]Queued, error) {
	byAddr := map[string][]Notice{}
	var order []string
	for _, x := range xs {
		m := eventMessage(x)
		to := n.o.Postmaster.Resolve(ruleset.MsgOf(m))
		if to == "" {
			continue
		}
		if _, ok := byAddr[to]; !ok {
			order = append(order, to)
		}
		full := ruleset.IsYes(n.o.FullHeaders.Resolve(ruleset.MsgOf(m)))
		byAddr[to] = append(byAddr[to], NewNotice(m, x.QuarantineDir, full))
	}
	var mails []Queued
	for _, to := range order {
		data := PostmasterData{Site: n.o.Site, Date: n.o.Now().Format(DateFormat), Messages: byAddr[to]}
		m, err := n.render(n.t, Postmaster, data, []string{to})
		if err != nil {
			return mails, err
		}
		m.Kind = "postmaster"
		for _, x := range byAddr[to] {
			m.About = append(m.About, x.ID)
		}
		mails = append(mails, m)
	}
	return mails, nil
}

// ReplacementText renders the text put in place of a part removed for
// report r, in the message's language.
func (n *Notifier) ReplacementText(m *message.Message, r message.Report) ([]byte, error) {
	name := map[message.ReportKind]string{
		message.KindVirus: DeletedVirus, message.KindFilename: DeletedFilename,
		message.KindFiletype: DeletedFiletype, message.KindSize: DeletedSize,
	}[r.Kind]
	if name == "" {
		name = DeletedContent
	}
	return n.tmpl(m).Render(name, NewReplacementData(m, r, n.o.Site, n.o.QuarantineDir, n.o.Now()))
}

// InlineWarning renders the warning put at the top of cleaned messages.
func (n *Notifier) InlineWarning(removed []string, warningName string) ([]byte, error) {
	return n.t.Render(InlineWarning, InlineData{Filename: strings.Join(removed, ", "), WarningName: warningName, OrgName: n.o.Site.OrgName})
}

// Sender writes the notice to the sender of a stopped message, as
// MailScanner does: by default for blocked filenames and filetypes, not
// for viruses (their senders are forged: backscatter) nor other content;
// never to the null sender, mailing lists or bulk mail.
func (n *Notifier) Sender(x Event) (*Queued, error) {
	name := n.senderTemplate(x.Reports)
	if name == "" || !ShouldNotifySender(x.Envelope.Sender, x.Header) {
		return nil, nil
	}
	m := eventMessage(x)
	data := SenderData{Site: n.o.Site, Notice: NewNotice(m, "", false)}
	mail, err := n.render(n.tmpl(m), name, data, []string{x.Envelope.Sender})
	if err != nil {
		return nil, err
	}
	mail.Kind, mail.About = "sender", []string{x.ID}
	return &mail, nil
}

// senderTemplate chooses the sender notice for the reports, or "".
func (n *Notifier) senderTemplate(reports []message.Report) string {
	var virus, blocked, other bool
	for _, r := range reports {
		switch {
		case r.Action == message.ActionNone && r.Kind != message.KindVirus:
		case r.Silent:
			return "" // a silent virus: no notice at all
		case r.Kind == message.KindVirus:
			virus = true
		case r.Kind == message.KindFilename || r.Kind == message.KindFiletype:
			blocked = true
		default:
			other = true
		}
	}
	switch {
	case virus:
		if n.o.SenderViruses {
			return SenderVirus
		}
	case blocked:
		if n.o.SenderBlocked {
			return SenderFilename
		}
	case other:
		if n.o.SenderOther {
			return SenderError
		}
	}
	return ""
}

// Spam writes the notices of the spam actions "notify" (to the
// recipients: the message was not delivered) and "bounce" (to the sender:
// rejected; only when Bounce is enabled, and never to the null sender,
// lists or bulk mail).
func (n *Notifier) Spam(x Event) ([]Queued, error) {
	m := &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Received: x.Received}
	data := SenderData{Site: n.o.Site, Notice: NewNotice(m, x.QuarantineDir, false)}
	if x.Spam != nil {
		data.Reports = []string{spamLine(x.Spam)}
	}
	var out []Queued
	if x.NotifyRecipients && len(x.Envelope.Recipients) > 0 {
		mail, err := n.render(n.tmpl(m), SpamNotify, data, x.Envelope.Recipients)
		if err != nil {
			return out, err
		}
		mail.Kind, mail.About = "spam-notify", []string{x.ID}
		out = append(out, mail)
	}
	if x.Bounce && n.o.Bounce && ShouldNotifySender(x.Envelope.Sender, x.Header) {
		mail, err := n.render(n.tmpl(m), SpamBounce, data, []string{x.Envelope.Sender})
		if err != nil {
			return out, err
		}
		mail.Kind, mail.About = "spam-bounce", []string{x.ID}
		out = append(out, mail)
	}
	return out, nil
}

// render builds a notice mail from a template with a "subject".
func (n *Notifier) render(t *Templates, name string, data any, to []string) (Queued, error) {
	body, err := t.Render(name, data)
	if err != nil {
		return Queued{}, err
	}
	subject, err := t.Subject(name, data)
	if err != nil {
		return Queued{}, err
	}
	s := n.o.Site
	from := s.Postmaster
	if from == "" {
		from = "postmaster@" + s.Hostname
	}
	raw, err := Mail{From: from, FromName: "qscan", To: to, Subject: subject, Body: body}.
		Bytes(MailOptions{Now: n.o.Now, Hostname: s.Hostname, OrgName: s.OrgName})
	if err != nil {
		return Queued{}, err
	}
	header, b := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		header, b = raw[:i+1], raw[i+2:]
	}
	return Queued{Recipients: to, Header: header, Body: b}, nil
}

// spamLine is the one-line spam report of a notice.
func spamLine(r *message.SpamResult) string {
	return fmt.Sprintf("%s, score %.1f (required %.1f)", map[message.SpamLevel]string{message.SpamSpam: "spam", message.SpamHigh: "high-scoring spam"}[r.Level], r.Score, r.Required)
}
