package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/pipeline"
)

// loadTemplates loads the templates of every language [notify] language
// can give (its value, or each value of its ruleset) from [notify]
// reports, or the shipped ones. Errors come now, not at 3 a.m.
func loadTemplates(n config.Notify) (map[string]*notify.Templates, error) {
	langs := map[string]bool{}
	for _, l := range settingValues(n.Language) {
		langs[l] = true
	}
	var fsys fs.FS = os.DirFS(n.Reports)
	if n.Reports == "" {
		sub, err := fs.Sub(etc.Reports, "reports")
		if err != nil {
			return nil, err
		}
		fsys = sub
	}
	out := map[string]*notify.Templates{}
	for l := range langs {
		t, err := notify.LoadFS(fsys, l)
		if err != nil {
			return nil, err
		}
		out[l] = t
	}
	return out, nil
}

// site describes this installation to the templates.
func site(c *config.Config) notify.Site {
	host := c.Notify.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	return notify.Site{OrgName: c.Headers.OrgName, Hostname: host, Postmaster: c.Notify.Postmaster.Plain}
}

// notifier writes the postmaster report from the templates.
type notifier struct {
	t      *notify.Templates            // the postmaster's language ([notify] language's value)
	byLang map[string]*notify.Templates // every language a message can get
	lang   config.Setting
	site   notify.Site
	to     config.Setting
	org    string
	now    func() time.Time
	// senders says which sender notices are sent ([notify] sender_*).
	senders struct{ viruses, blocked, other bool }
	bounce  bool // [spam] bounce: the spam action "bounce" is enabled
}

var _ pipeline.Notifier = (*notifier)(nil)

// tmpl returns the templates in the message's language.
func (n *notifier) tmpl(m *message.Message) *notify.Templates {
	if t, ok := n.byLang[n.lang.Resolve(rulesMsg(m))]; ok {
		return t
	}
	return n.t
}

// Postmaster writes one report per postmaster address: [notify]
// postmaster may be a ruleset choosing the address by sender or recipient.
func (n *notifier) Postmaster(ns []pipeline.Notice) ([]pipeline.Mail, error) {
	byAddr := map[string][]notify.Notice{}
	var order []string
	for _, x := range ns {
		m := &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Reports: x.Reports, Parts: x.Parts, Received: x.Received}
		to := n.to.Resolve(rulesMsg(m))
		if to == "" {
			continue
		}
		if _, ok := byAddr[to]; !ok {
			order = append(order, to)
		}
		byAddr[to] = append(byAddr[to], notify.NewNotice(m, x.QuarantineDir, false))
	}
	var mails []pipeline.Mail
	for _, to := range order {
		m, err := n.report(to, byAddr[to])
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

func (n *notifier) report(to string, ns []notify.Notice) (pipeline.Mail, error) {
	data := notify.PostmasterData{Site: n.site, Date: n.now().Format(notify.DateFormat), Messages: ns}
	return n.render(n.t, notify.Postmaster, data, []string{to})
}

// templateText renders the replacement text of a removed part, in the
// message's language.
func (n *notifier) templateText(quarantineDir string) func(m *message.Message, r message.Report) ([]byte, error) {
	s, now := n.site, n.now
	return func(m *message.Message, r message.Report) ([]byte, error) {
		t := n.tmpl(m)
		name := map[message.ReportKind]string{
			message.KindVirus: notify.DeletedVirus, message.KindFilename: notify.DeletedFilename,
			message.KindFiletype: notify.DeletedFiletype, message.KindSize: notify.DeletedSize,
		}[r.Kind]
		if name == "" {
			name = notify.DeletedContent
		}
		return t.Render(name, notify.NewReplacementData(m, r, s, quarantineDir, now()))
	}
}

// inlineWarning renders the warning put at the top of cleaned messages.
func (n *notifier) inlineWarning(removed []string, warningName string) ([]byte, error) {
	return n.t.Render(notify.InlineWarning, notify.InlineData{Filename: strings.Join(removed, ", "), WarningName: warningName, OrgName: n.org})
}

// newNotifier builds the report writer and the replacement texts.
func newNotifier(c *config.Config) (*notifier, func(m *message.Message, r message.Report) ([]byte, error), error) {
	ts, err := loadTemplates(c.Notify)
	if err != nil {
		return nil, nil, fmt.Errorf("report templates: %w", err)
	}
	s := site(c)
	n := &notifier{t: ts[c.Notify.Language.Plain], byLang: ts, lang: c.Notify.Language, site: s, to: c.Notify.Postmaster, org: c.Headers.OrgName, now: time.Now}
	n.senders.viruses, n.senders.blocked, n.senders.other = c.Notify.SenderViruses, c.Notify.SenderBlocked, c.Notify.SenderOther
	n.bounce = c.Spam.Bounce
	return n, n.templateText(c.Quarantine.Dir), nil
}

// Sender writes the notice to the sender of a stopped message, as
// MailScanner does: by default for blocked filenames and filetypes, not
// for viruses (their senders are forged: backscatter) nor other content;
// never to the null sender, mailing lists or bulk mail.
func (n *notifier) Sender(x pipeline.Notice) (*pipeline.Mail, error) {
	name := n.senderTemplate(x.Reports)
	if name == "" || !notify.ShouldNotifySender(x.Envelope.Sender, x.Header) {
		return nil, nil
	}
	m := &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Reports: x.Reports, Parts: x.Parts, Received: x.Received}
	data := notify.SenderData{Site: n.site, Notice: notify.NewNotice(m, "", false)}
	mail, err := n.render(n.tmpl(m), name, data, []string{x.Envelope.Sender})
	if err != nil {
		return nil, err
	}
	mail.Kind, mail.About = "sender", []string{x.ID}
	return &mail, nil
}

// senderTemplate chooses the sender notice for the reports, or "".
func (n *notifier) senderTemplate(reports []message.Report) string {
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
		if n.senders.viruses {
			return notify.SenderVirus
		}
	case blocked:
		if n.senders.blocked {
			return notify.SenderFilename
		}
	case other:
		if n.senders.other {
			return notify.SenderError
		}
	}
	return ""
}

func splitMail(raw []byte) (header, body []byte) {
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:]
	}
	return raw, nil
}

// Spam writes the notices of the spam actions "notify" (to the
// recipients: the message was not delivered) and "bounce" (to the sender:
// rejected; only when [spam] bounce is enabled, and never to the null
// sender, lists or bulk mail).
func (n *notifier) Spam(x pipeline.Notice) ([]pipeline.Mail, error) {
	m := &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Received: x.Received}
	data := notify.SenderData{Site: n.site, Notice: notify.NewNotice(m, x.QuarantineDir, false)}
	if x.Spam != nil {
		data.Reports = []string{spamLine(x.Spam)}
	}
	var out []pipeline.Mail
	if x.NotifyRecipients && len(x.Envelope.Recipients) > 0 {
		mail, err := n.render(n.tmpl(m), notify.SpamNotify, data, x.Envelope.Recipients)
		if err != nil {
			return out, err
		}
		mail.Kind, mail.About = "spam-notify", []string{x.ID}
		out = append(out, mail)
	}
	if x.Bounce && n.bounce && notify.ShouldNotifySender(x.Envelope.Sender, x.Header) {
		mail, err := n.render(n.tmpl(m), notify.SpamBounce, data, []string{x.Envelope.Sender})
		if err != nil {
			return out, err
		}
		mail.Kind, mail.About = "spam-bounce", []string{x.ID}
		out = append(out, mail)
	}
	return out, nil
}

// render builds a notice mail from a template with a "subject".
func (n *notifier) render(t *notify.Templates, name string, data any, to []string) (pipeline.Mail, error) {
	body, err := t.Render(name, data)
	if err != nil {
		return pipeline.Mail{}, err
	}
	subject, err := t.Subject(name, data)
	if err != nil {
		return pipeline.Mail{}, err
	}
	from := n.site.Postmaster
	if from == "" {
		from = "postmaster@" + n.site.Hostname
	}
	raw, err := notify.Mail{From: from, FromName: "qscan", To: to, Subject: subject, Body: body}.
		Bytes(notify.MailOptions{Now: n.now, Hostname: n.site.Hostname, OrgName: n.org})
	if err != nil {
		return pipeline.Mail{}, err
	}
	header, b := splitMail(raw)
	return pipeline.Mail{Recipients: to, Header: header, Body: b}, nil
}

// spamLine is the one-line spam report of a notice.
func spamLine(r *message.SpamResult) string {
	return fmt.Sprintf("%s, score %.1f (required %.1f)", map[string]string{"spam": "spam", "high": "high-scoring spam"}[r.Level], r.Score, r.Required)
}
